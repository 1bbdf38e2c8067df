// Conversations, kept in the browser's local storage (never sent anywhere but to the
// server as the messages of a request). A conversation:
//   {id, title, renamed, model, updated, messages: [{role, content, state, target, error}]}
// An assistant message's state is "done", "streaming", "stopped", "incomplete" or "error".

export const STORAGE_ITEM = "chatbridge.conversations.v1";
const MODEL_ITEM = "chatbridge.model";
const TITLE_LENGTH = 48;

function valid(conversation) {
  return conversation && typeof conversation.id === "string"
    && typeof conversation.title === "string" && Array.isArray(conversation.messages);
}

export function loadConversations() {
  let list;
  try {
    list = JSON.parse(localStorage.getItem(STORAGE_ITEM) || "[]");
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  list = list.filter(valid);
  for (const conversation of list) {
    for (const message of conversation.messages) {
      // a page closed mid-answer: what arrived stays, marked as incomplete
      if (message.state === "streaming") message.state = "incomplete";
    }
  }
  return list;
}

// Returns false when the browser refused (storage full or disabled).
export function saveConversations(list) {
  try {
    localStorage.setItem(STORAGE_ITEM, JSON.stringify(list));
    return true;
  } catch {
    return false;
  }
}

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

export function newConversation(model) {
  return { id: newId(), title: "New chat", renamed: false, model, updated: Date.now(),
    messages: [] };
}

export function titleFrom(text) {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > TITLE_LENGTH ? line.slice(0, TITLE_LENGTH - 1) + "…" : line || "New chat";
}

// The messages to send: what the user saw, without failed answers.
export function history(conversation) {
  return conversation.messages
    .filter((m) => m.role === "user" || (m.role === "assistant" && m.content && m.state !== "error"))
    .map((m) => ({ role: m.role, content: m.content }));
}

export function lastModel() {
  try {
    return localStorage.getItem(MODEL_ITEM) || "";
  } catch {
    return "";
  }
}

export function rememberModel(model) {
  try {
    localStorage.setItem(MODEL_ITEM, model);
  } catch {
    // not remembered: the first model is picked next time
  }
}
