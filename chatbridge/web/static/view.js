// Building the page's elements. Answer text only ever reaches the page as text
// (textContent) or as the HTML that the server's /ui/render made from it (raw HTML off).
import { describeError } from "./errors.js";

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const BADGES = {
  streaming: "answering…",
  stopped: "stopped",
  incomplete: "incomplete",
  error: "failed",
};

function copyText(text, button) {
  const done = () => {
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => { button.textContent = "Copy failed"; });
    return;
  }
  const area = el("textarea", "copy-buffer");
  area.value = text;
  document.body.append(area);
  area.select();
  try {
    document.execCommand("copy");
    done();
  } finally {
    area.remove();
  }
}

// Every code block of rendered HTML gets a bar above it (never over its text): the
// language the answer named, if any, and a Copy button (made here, never taken from answers).
export function addCodeBars(container) {
  for (const pre of container.querySelectorAll("pre")) {
    const code = pre.querySelector("code") || pre;
    const named = [...code.classList].find((name) => name.startsWith("language-"));
    const wrap = el("div", "code-block");
    const bar = el("div", "code-bar");
    const button = el("button", "copy", "Copy");
    button.type = "button";
    button.setAttribute("aria-label", "Copy code");
    button.addEventListener("click", () => copyText(code.textContent, button));
    bar.append(el("span", "code-lang", named ? named.slice("language-".length) : "text"), button);
    pre.replaceWith(wrap);
    wrap.append(bar, pre);
  }
}

// What an answer's line says about its target, by the answer's state: only a finished
// answer was "answered by" it.
function targetText(state, label) {
  if (state === "done") return "answered by " + label;
  if (state === "stopped") return "partial answer from " + label + ", stopped by you";
  if (state === "incomplete") return "partial answer from " + label + ", cut off";
  if (state === "streaming") return "from " + label;
  return "";
}

export class MessageView {
  constructor(message) {
    this.root = el("article", "message " + message.role);
    const meta = el("div", "meta");
    this.who = el("span", "who", message.role === "user" ? "You" : "Assistant");
    this.target = el("span", "target");
    this.badge = el("span", "badge");
    meta.append(this.who, this.target, this.badge);
    this.md = el("div", "md");
    this.raw = el("div", "raw");
    this.error = el("div", "error");
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    this.errorMessage = el("p", "error-message");
    this.errorTargets = el("ul", "error-targets");
    this.errorHint = el("p", "error-hint");
    this.errorDetails = el("details", "error-details");
    this.errorRaw = el("pre", "error-raw");
    this.errorDetails.append(el("summary", "", "Details"), this.errorRaw);
    this.retry = el("button", "retry", "Retry");
    this.retry.type = "button";
    this.error.append(this.errorMessage, this.errorTargets, this.errorHint, this.errorDetails,
      this.retry);
    this.root.append(meta, this.md, this.raw, this.error);
    this.renderedText = "";
    this.update(message);
  }

  // Text not yet rendered is shown as text; rendered HTML replaces it as it arrives.
  setText(text) {
    if (!text.startsWith(this.renderedText)) {
      this.md.replaceChildren();
      this.renderedText = "";
    }
    this.raw.textContent = text.slice(this.renderedText.length);
  }

  setHtml(html, forText, text) {
    this.md.innerHTML = html; // the server's escaped rendering (see web/_render.py)
    addCodeBars(this.md);
    this.renderedText = forText;
    this.setText(text);
  }

  update(message) {
    this.root.dataset.state = message.state || "done";
    if (message.role === "user") {
      this.raw.textContent = message.content;
      this.badge.hidden = true;
      return;
    }
    this.target.textContent = message.target ? targetText(this.root.dataset.state,
      message.target.label) : "";
    this.target.title = message.target ? message.target.detail : "";
    this.badge.textContent = BADGES[message.state] || "";
    this.badge.hidden = !this.badge.textContent;
    this.setText(message.content);
    this.error.hidden = !message.error;
    if (message.error) this.showError(describeError(message.error));
  }

  showError({ headline, lines, hint, details }) {
    this.errorMessage.textContent = headline;
    this.errorTargets.replaceChildren(...lines.map((line) => el("li", "", line)));
    this.errorTargets.hidden = lines.length === 0;
    this.errorHint.textContent = hint;
    this.errorRaw.textContent = details;
  }
}
