// Building the page's elements. Answer text only ever reaches the page as text
// (textContent) or as the HTML that the server's /ui/render made from it (raw HTML off).

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

// What to do about an error, from its status and code (the server's OpenAI error object).
export function hintFor(error) {
  const code = error.code || "";
  if (error.status === 0 && code === "network_error") {
    return "Check that chatbridge serve is still running, then press Retry.";
  }
  if (error.inBand && error.status === 0) {
    return "The connection to the server broke: the text above is incomplete. Check that "
      + "chatbridge serve is still running, then press Retry.";
  }
  if (error.inBand) {
    return "The answer broke off: the text above is incomplete. Press Retry to ask again.";
  }
  if (error.status === 401) return "Enter a valid API key for this server, then press Retry.";
  if (error.status === 404) return "Pick another model from the list at the top, then press Retry.";
  if (error.status === 413) return "The conversation is too long for this server: start a new chat.";
  if (code === "context_length_exceeded") {
    return "The conversation is too long for this model: start a new chat.";
  }
  if (code.startsWith("content")) return "The service refused this request: rephrase it.";
  if (error.status === 429) {
    const wait = error.retryAfter ? ` ${error.retryAfter} s` : " a moment";
    return `Too many requests: wait${wait}, then press Retry.`;
  }
  if (error.status >= 500) {
    return "No target of this route could answer. Try again in a moment, or pick another model.";
  }
  return "Check the message above, then press Retry.";
}

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

// A copy button on every code block of rendered HTML (added here, never taken from answers).
export function addCopyButtons(container) {
  for (const pre of container.querySelectorAll("pre")) {
    const code = pre.querySelector("code") || pre;
    const wrap = el("div", "code-block");
    pre.replaceWith(wrap);
    const button = el("button", "copy", "Copy");
    button.type = "button";
    button.setAttribute("aria-label", "Copy code");
    button.addEventListener("click", () => copyText(code.textContent, button));
    wrap.append(button, pre);
  }
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
    this.errorHint = el("p", "error-hint");
    this.retry = el("button", "retry", "Retry");
    this.retry.type = "button";
    this.error.append(this.errorMessage, this.errorHint, this.retry);
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
    addCopyButtons(this.md);
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
    this.target.textContent = message.target ? "answered by " + message.target.label : "";
    this.target.title = message.target ? message.target.detail : "";
    this.badge.textContent = BADGES[message.state] || "";
    this.badge.hidden = !this.badge.textContent;
    this.setText(message.content);
    const error = message.error;
    this.error.hidden = !error;
    if (error) {
      const said = [error.status && "HTTP " + error.status, error.code].filter(Boolean).join(", ");
      const status = said ? ` (${said})` : "";
      this.errorMessage.textContent = "Error" + status + ": " + error.message;
      this.errorHint.textContent = error.hint;
    }
  }
}
