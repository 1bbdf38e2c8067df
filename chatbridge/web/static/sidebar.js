// The conversation list: open, rename in place, delete with a second click to confirm.
// It only draws and reports; the page (app.js) owns the conversations.
import { el } from "./view.js";

const CONFIRM_MS = 4000;

// actions: {open(c), rename(c, title), remove(c), cancel()}
export function renderList(list, conversations, current, actions) {
  list.replaceChildren();
  for (const conversation of conversations) {
    const item = el("li", "conversation");
    if (conversation === current) item.setAttribute("aria-current", "true");
    const open = el("button", "open", conversation.title);
    open.type = "button";
    open.title = conversation.title;
    open.addEventListener("click", () => actions.open(conversation));
    const rename = el("button", "rename icon", "✎");
    rename.type = "button";
    rename.setAttribute("aria-label", "Rename " + conversation.title);
    rename.addEventListener("click", () => startRename(open, conversation, actions));
    const remove = el("button", "delete icon", "✕");
    remove.type = "button";
    remove.setAttribute("aria-label", "Delete " + conversation.title);
    remove.addEventListener("click", () => askDelete(remove, conversation, actions));
    item.append(open, rename, remove);
    list.append(item);
  }
}

function startRename(open, conversation, actions) {
  const input = el("input", "rename-input");
  input.value = conversation.title;
  input.setAttribute("aria-label", "New name");
  let finished = false;
  const finish = (keep) => {
    if (finished) return;
    finished = true;
    const title = input.value.trim();
    if (keep && title) actions.rename(conversation, title);
    else actions.cancel();
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      finish(true);
    }
    if (event.key === "Escape") {
      event.preventDefault();
      finish(false);
    }
  });
  input.addEventListener("blur", () => finish(true));
  open.replaceWith(input);
  input.focus();
  input.select();
}

function askDelete(button, conversation, actions) {
  if (button.dataset.confirm !== "yes") {
    button.dataset.confirm = "yes";
    button.textContent = "Delete?";
    setTimeout(() => {
      if (button.isConnected) {
        button.dataset.confirm = "";
        button.textContent = "✕";
      }
    }, CONFIRM_MS);
    return;
  }
  actions.remove(conversation);
}
