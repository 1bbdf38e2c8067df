// The chat page: conversations on the left, the chosen one on the right, a composer below.
import * as api from "./api.js";
import { Follower } from "./follow.js";
import { Renderer } from "./renderer.js";
import * as sidebar from "./sidebar.js";
import * as store from "./store.js";
import { hintFor } from "./errors.js";
import { MessageView, el } from "./view.js";

const $ = (id) => document.getElementById(id);
const page = {
  conversations: [],
  current: null,
  models: [],
  streaming: null, // {controller, conversation, message}
  views: new Map(), // message object -> MessageView (of the conversation shown)
  changed: new Set(), // ids of the conversations this tab changed and has not stored yet
  removed: new Set(), // ids of the conversations this tab deleted and has not stored yet
  follower: null, // keeps the view at the end of the conversation (see follow.js)
};

// Store the conversations this tab changed (`changed`, and any it removed), merged with
// what other tabs stored meanwhile: two tabs answering at once each keep their answer.
function persist(...changed) {
  for (const conversation of changed) page.changed.add(conversation.id);
  const moved = sync();
  sortConversations();
  if (store.saveConversations(page.conversations)) {
    page.changed.clear();
    page.removed.clear();
  } else {
    notice("This browser refused to store the conversations (storage full or disabled).");
  }
  renderList();
  if (moved) renderConversation();
}

// Take in what other tabs stored: each conversation this tab has not changed (nor is
// answering in) becomes the stored version; an unchanged one keeps its object (and view).
// Returns true when the conversation shown is another object now (to be drawn again).
function sync() {
  const stored = store.loadConversations({ live: true });
  if (!stored.available) return false; // storage disabled: this tab's list is all there is
  const mine = new Set(page.changed);
  if (page.streaming) mine.add(page.streaming.conversation.id);
  const before = new Map(page.conversations.map((c) => [c.id, c]));
  page.conversations = store.merge(stored.conversations, page.conversations, mine, page.removed)
    .map((c) => {
      const old = before.get(c.id);
      return old && JSON.stringify(old) === JSON.stringify(c) ? old : c;
    });
  sortConversations();
  const shown = page.current;
  const id = shown && shown.id;
  page.current = page.conversations.find((c) => c.id === id) || page.conversations[0] || null;
  return page.current !== shown;
}

function notice(text) {
  const box = $("notice");
  box.textContent = text || "";
  box.hidden = !text;
}

// --- the conversation list -------------------------------------------------------------

function sortConversations() {
  page.conversations.sort((a, b) => (b.updated || 0) - (a.updated || 0));
}

function renderList() {
  sidebar.renderList($("conversations"), page.conversations, page.current, {
    open: select,
    rename(conversation, title) {
      conversation.title = title;
      conversation.renamed = true;
      if (conversation === page.current) $("title").textContent = title;
      persist(conversation);
    },
    remove(conversation) {
      if (page.streaming && page.streaming.conversation === conversation) {
        page.streaming.controller.abort();
      }
      page.conversations = page.conversations.filter((c) => c !== conversation);
      page.removed.add(conversation.id);
      if (page.current === conversation) page.current = page.conversations[0] || null;
      persist();
      renderConversation();
    },
    cancel: () => renderList(),
  });
}

function select(conversation) {
  page.current = conversation;
  document.body.classList.remove("sidebar-open");
  $("toggle-sidebar").setAttribute("aria-expanded", "false");
  renderList();
  renderConversation();
  $("input").focus();
}

// --- the conversation shown ------------------------------------------------------------

function renderConversation() {
  const box = $("messages");
  page.views.clear();
  page.follower.reset();
  box.replaceChildren();
  const conversation = page.current;
  $("title").textContent = conversation ? conversation.title : store.NEW_TITLE;
  if (conversation && conversation.model) chooseModel(conversation.model);
  if (!conversation || conversation.messages.length === 0) {
    box.append(el("p", "empty", "Ask anything. Answers stream in from the route you pick."));
    return;
  }
  for (const message of conversation.messages) {
    const view = showMessage(message);
    if (message.role === "assistant" && message.content) renderInto(view, message.content);
  }
  page.follower.toEnd();
}

function showMessage(message) {
  const box = $("messages");
  const empty = box.querySelector(".empty");
  if (empty) empty.remove();
  const view = new MessageView(message);
  view.retry.addEventListener("click", () => retry(message));
  page.views.set(message, view);
  box.append(view.root);
  page.follower.watch(view.root);
  page.follower.toEnd();
  return view;
}

async function renderInto(view, text) {
  try {
    const html = await api.renderMarkdown(text);
    if (view.root.isConnected) view.setHtml(html, text, text);
  } catch {
    // not rendered (too long, or the server is away): the text stays shown as text
  }
}

function describeTarget(info) {
  const label = info.target || info.provider || info.route || "unknown";
  const detail = ["route " + (info.route || "?"), info.provider && "provider " + info.provider,
    info.site && "site " + info.site].filter(Boolean).join(", ");
  return { label, detail };
}

async function answer(conversation) {
  const messages = store.history(conversation);
  const message = { role: "assistant", content: "", state: "streaming", target: null,
    error: null };
  conversation.messages.push(message);
  conversation.updated = Date.now();
  const controller = new AbortController();
  page.streaming = { controller, conversation, message };
  persist(conversation);
  if (conversation === page.current) showMessage(message);
  setStreaming(true);
  const renderer = new Renderer(message, (html, text) => {
    const view = page.views.get(message);
    if (view) view.setHtml(html, text, message.content);
  });
  try {
    for await (const event of api.streamChat(conversation.model, messages, controller.signal)) {
      if (event.info) message.target = describeTarget(event.info);
      if (event.delta) message.content += event.delta;
      const view = page.views.get(message);
      if (view) view.update(message);
      renderer.poke();
    }
    message.state = "done";
  } catch (error) {
    if (error && error.name === "AbortError") {
      message.state = "stopped";
    } else {
      const known = error instanceof api.ApiError ? error : new api.ApiError(0, {
        message: String(error && error.message || error) });
      message.state = known.inBand && message.content ? "incomplete" : "error";
      message.error = { message: known.message, status: known.status, code: known.code,
        inBand: known.inBand, retryAfter: known.retryAfter, attempts: known.attempts,
        hint: null };
      if (known.status === 401) showKeyPanel("The server refused the key: enter another one.");
    }
  } finally {
    page.streaming = null;
    setStreaming(false);
    persist(conversation);
    if (message.content) await renderer.finish();
    // the final state shows once the final text is rendered (tests wait for it)
    const view = page.views.get(message);
    if (view) view.update(message);
  }
}

async function send() {
  const input = $("input");
  const text = input.value;
  if (!text.trim() || page.streaming) return;
  const model = $("model").value;
  if (!model) {
    notice("No model to ask yet: the list of models has not loaded.");
    return;
  }
  notice("");
  let conversation = page.current;
  if (!conversation) {
    conversation = store.newConversation(model);
    page.conversations.unshift(conversation);
    page.current = conversation;
  }
  conversation.model = model;
  conversation.messages.push({ role: "user", content: text });
  if (!conversation.renamed && conversation.title === store.NEW_TITLE) name(conversation, text);
  input.value = "";
  showMessage(conversation.messages[conversation.messages.length - 1]);
  await answer(conversation);
}

// A conversation is named after the words of its first question: its Markdown rendered
// (by the server, raw HTML off) and read back as plain text, never the Markdown itself.
// Without the server it stays "New chat" and the next question names it.
async function name(conversation, question) {
  let html;
  try {
    html = await api.renderMarkdown(question);
  } catch {
    return;
  }
  const named = page.conversations.find((c) => c.id === conversation.id);
  if (!named || named.renamed) return;
  // an inert document: nothing in it runs or loads
  named.title = store.titleFrom(new DOMParser().parseFromString(html, "text/html").body.textContent);
  if (named === page.current) $("title").textContent = named.title;
  persist(named);
}

function retry(message) {
  const conversation = page.current;
  if (!conversation || page.streaming) return;
  const index = conversation.messages.indexOf(message);
  if (index < 0 || index !== conversation.messages.length - 1) return; // the last answer only
  conversation.messages.splice(index, 1);
  const view = page.views.get(message);
  if (view) view.root.remove();
  if ($("model").value) conversation.model = $("model").value;
  answer(conversation);
}

function setStreaming(on) {
  $("send").hidden = on;
  $("stop").hidden = !on;
  $("messages").setAttribute("aria-busy", on ? "true" : "false");
}

// --- models and the API key ------------------------------------------------------------

function chooseModel(name) {
  const select = $("model");
  if ([...select.options].some((option) => option.value === name)) select.value = name;
}

async function loadModels() {
  try {
    page.models = await api.listModels();
  } catch (error) {
    if (error.status === 401) {
      showKeyPanel(api.apiKey() ? "The server refused this key: enter another one." : "");
    } else {
      notice("Cannot list the models: " + error.message + " " + hintFor(error));
    }
    return false;
  }
  const select = $("model");
  select.replaceChildren(...page.models.map((model) => {
    const option = el("option", "", model.id);
    option.value = model.id;
    return option;
  }));
  chooseModel(store.lastModel());
  if (page.current && page.current.model) chooseModel(page.current.model);
  hideKeyPanel();
  notice(page.models.length ? "" : "This server serves no model.");
  return true;
}

function showKeyPanel(message) {
  const error = $("key-error");
  error.textContent = message || "";
  error.hidden = !message;
  $("key-panel").hidden = false;
  $("key-input").focus();
}

function hideKeyPanel() {
  $("key-panel").hidden = true;
}

// --- wiring ----------------------------------------------------------------------------

function bind() {
  $("composer").addEventListener("submit", (event) => { event.preventDefault(); send(); });
  $("input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  $("stop").addEventListener("click", () => {
    if (page.streaming) page.streaming.controller.abort();
  });
  $("new-chat").addEventListener("click", () => {
    if (page.current && page.current.messages.length === 0) { select(page.current); return; }
    const conversation = store.newConversation($("model").value);
    page.conversations.unshift(conversation);
    persist(conversation);
    select(conversation);
  });
  $("model").addEventListener("change", () => {
    const model = $("model").value;
    store.rememberModel(model);
    if (page.current) { page.current.model = model; persist(page.current); }
  });
  $("toggle-sidebar").addEventListener("click", () => {
    const open = document.body.classList.toggle("sidebar-open");
    $("toggle-sidebar").setAttribute("aria-expanded", open ? "true" : "false");
  });
  $("backdrop").addEventListener("click", () => document.body.classList.remove("sidebar-open"));
  // A tab closed mid-answer stores what arrived, marked incomplete (other tabs show it).
  window.addEventListener("pagehide", () => {
    if (!page.streaming) return;
    page.streaming.message.state = "incomplete";
    persist(page.streaming.conversation);
  });
  // Another tab of this page stored its conversations: take in its changes (this tab's own,
  // such as an answer streaming in, stay).
  window.addEventListener("storage", (event) => {
    if (event.key !== null && event.key !== store.STORAGE_ITEM) return;
    const moved = sync();
    renderList();
    if (moved) renderConversation();
  });
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    api.setApiKey($("key-input").value.trim());
    $("key-input").value = "";
    await loadModels();
  });
}

async function main() {
  page.follower = new Follower($("messages"));
  bind();
  const stored = store.loadConversations();
  page.conversations = stored.conversations;
  sortConversations();
  page.current = page.conversations[0] || null;
  renderList();
  renderConversation();
  await loadModels();
  if (stored.skipped && $("notice").hidden) {
    notice("Some stored conversations could not be read and were skipped; the rest are here.");
  }
  document.body.dataset.ready = "true";
}

main();
