// Conversations, kept in the browser's local storage (never sent anywhere but to the
// server as the messages of a request). A conversation:
//   {id, title, renamed, model, updated, messages: [{role, content, state, target, error}]}
// An assistant message's state is "done", "streaming", "stopped", "incomplete" or "error".
// What is stored is read field by field: what cannot be read is skipped, the rest kept.
import { readAttempts } from "./api.js";

export const STORAGE_ITEM = "chatbridge.conversations.v1";
// Where a stored list that cannot be read at all is kept (never thrown away in silence).
export const UNREADABLE_ITEM = "chatbridge.conversations.v1.unreadable";
const MODEL_ITEM = "chatbridge.model";
// The title of a conversation not named yet.
export const NEW_TITLE = "New chat";
const TITLE_LENGTH = 48;
const STATES = new Set(["done", "streaming", "stopped", "incomplete", "error"]);

const text = (value, fallback = "") => (typeof value === "string" ? value : fallback);

function readTarget(target) {
  if (!target || typeof target !== "object" || typeof target.label !== "string") return null;
  return { label: target.label, detail: text(target.detail) };
}

function readError(error) {
  if (!error || typeof error !== "object") return null;
  return {
    message: text(error.message, "The answer failed."),
    status: Number.isInteger(error.status) ? error.status : 0,
    code: text(error.code) || null,
    inBand: error.inBand === true,
    retryAfter: text(error.retryAfter) || null,
    attempts: readAttempts(error.attempts),
    hint: text(error.hint) || null, // stored by earlier versions of the page, shown as it was
  };
}

function readMessage(message, live) {
  if (!message || typeof message !== "object" || typeof message.content !== "string") return null;
  if (message.role === "user") return { role: "user", content: message.content };
  if (message.role !== "assistant") return null;
  // read at start-up, an answer still streaming is one a page closed mid-way: what arrived
  // stays, marked as incomplete (`live`: another tab may still be answering)
  const state = STATES.has(message.state) ? message.state : "done";
  return {
    role: "assistant",
    content: message.content,
    state: state === "streaming" && !live ? "incomplete" : state,
    target: readTarget(message.target),
    error: readError(message.error),
  };
}

function readConversation(item, problems, live) {
  if (!item || typeof item !== "object" || typeof item.id !== "string" || !item.id
      || !Array.isArray(item.messages)) {
    problems.conversations += 1;
    return null;
  }
  const messages = item.messages.map((m) => readMessage(m, live)).filter(Boolean);
  problems.messages += item.messages.length - messages.length;
  return {
    id: item.id,
    title: text(item.title).trim() ? item.title : NEW_TITLE,
    renamed: item.renamed === true,
    model: text(item.model),
    updated: Number.isFinite(item.updated) ? item.updated : 0,
    messages,
  };
}

// {conversations, skipped, available}: what could be read, how many conversations and
// messages could not (0: all of it), and whether storage could be read at all. A list that
// cannot be parsed at all is moved to UNREADABLE_ITEM. `live`: read while the page runs
// (answers another tab is streaming stay "streaming"), not at start-up.
export function loadConversations({ live = false } = {}) {
  let raw;
  try {
    raw = localStorage.getItem(STORAGE_ITEM);
  } catch {
    return { conversations: [], skipped: 0, available: false }; // storage disabled
  }
  let list = null;
  try {
    list = JSON.parse(raw || "[]");
  } catch {
    list = null;
  }
  if (!Array.isArray(list)) {
    keepAside(raw);
    return { conversations: [], skipped: 1, available: true };
  }
  const problems = { conversations: 0, messages: 0 };
  const seen = new Set();
  const conversations = [];
  for (const item of list) {
    const conversation = readConversation(item, problems, live);
    if (conversation && !seen.has(conversation.id)) {
      seen.add(conversation.id);
      conversations.push(conversation);
    }
  }
  return { conversations, skipped: problems.conversations + problems.messages, available: true };
}

function keepAside(raw) {
  if (!raw) return;
  try {
    localStorage.setItem(UNREADABLE_ITEM, raw);
    localStorage.removeItem(STORAGE_ITEM);
  } catch {
    // storage refused: the unreadable list stays where it is
  }
}

// The stored list and this tab's, merged by conversation: one this tab changed (its id in
// `mine`) is this tab's version, one it removed is gone, any other is the stored version
// (another tab's changes win there). Conversations are objects; the list is unordered.
export function merge(stored, local, mine, removed) {
  const merged = new Map();
  for (const conversation of stored) {
    if (!removed.has(conversation.id)) merged.set(conversation.id, conversation);
  }
  for (const conversation of local) {
    if (mine.has(conversation.id)) merged.set(conversation.id, conversation);
  }
  return [...merged.values()];
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
  return { id: newId(), title: NEW_TITLE, renamed: false, model, updated: Date.now(),
    messages: [] };
}

// A title from a question's plain text (the words of its Markdown, see app.js).
export function titleFrom(plain) {
  const line = plain.replace(/\s+/g, " ").trim();
  return line.length > TITLE_LENGTH ? line.slice(0, TITLE_LENGTH - 1) + "…" : line || NEW_TITLE;
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
