// The view follows the end of the conversation while the user is there: whatever grows
// (streamed text, its rendering, an error card, opened details, the window) is scrolled
// into view, as a streaming answer is. A scroll of the user's own away from the end stops
// it; scrolling back to the end starts it again.
const NEAR = 40; // pixels from the end that still count as "at the end"

export class Follower {
  constructor(box) {
    this.box = box;
    this.on = true;
    this.scrolledTo = -1; // the position this set last (its own scroll events are ignored)
    this.observer = new ResizeObserver(() => {
      if (this.on) this.toEnd();
    });
    box.addEventListener("scroll", () => {
      if (box.scrollTop === this.scrolledTo) return;
      this.on = box.scrollHeight - box.scrollTop - box.clientHeight < NEAR;
    });
  }

  // A conversation drawn anew: watch the box (and then each message added).
  reset() {
    this.observer.disconnect();
    this.observer.observe(this.box);
  }

  watch(element) {
    this.observer.observe(element);
  }

  toEnd() {
    this.box.scrollTop = this.box.scrollHeight;
    this.scrolledTo = this.box.scrollTop;
    this.on = true;
  }
}
