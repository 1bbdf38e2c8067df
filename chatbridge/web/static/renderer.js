// Markdown for a streaming answer: the server renders it (POST /ui/render) while text
// arrives, no more often than every RENDER_EVERY_MS nor than every COST_FACTOR times the
// last render's round trip (a long answer is re-rendered less often, so the server spends
// about a tenth of the stream's time on it at most), and once more at the end.
import { renderMarkdown } from "./api.js";

const RENDER_EVERY_MS = 250;
const COST_FACTOR = 10;

export class Renderer {
  // apply(html, text): show `html`, the rendering of `text` (a prefix of the answer).
  constructor(message, apply) {
    this.message = message;
    this.apply = apply;
    this.busy = null;
    this.last = 0;
    this.interval = RENDER_EVERY_MS;
    this.failed = false;
  }

  poke() {
    if (this.busy || this.failed || Date.now() - this.last < this.interval) return;
    this.busy = this.run().finally(() => {
      this.busy = null;
    });
  }

  async run() {
    const text = this.message.content;
    this.last = Date.now();
    try {
      const html = await renderMarkdown(text);
      this.interval = Math.max(RENDER_EVERY_MS, COST_FACTOR * (Date.now() - this.last));
      if (this.message.content.startsWith(text)) this.apply(html, text);
    } catch {
      this.failed = true; // shown as text until the final attempt
    }
  }

  // The final rendering; tried twice (a connection the browser just aborted may fail the
  // first), after which the answer stays shown as text.
  async finish() {
    if (this.busy) await this.busy;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      this.failed = false;
      await this.run();
      if (!this.failed) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
