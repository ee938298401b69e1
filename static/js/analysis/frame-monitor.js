/**
 * Watches how smoothly the page draws: frames per second over the last second
 * (from requestAnimationFrame) and main-thread tasks over 50 ms (Long Tasks API).
 */
export class FrameMonitor {
  fps = 0;
  /** @type {number[]} recent frame timestamps */
  #frames = [];
  /** @type {number[]} durations of long tasks seen since start, newest last (at most 200) */
  longTasks = [];
  #running = false;
  /** @type {PerformanceObserver | null} */
  #observer = null;

  start() {
    if (this.#running) return;
    this.#running = true;
    const tick = (/** @type {number} */ now) => {
      if (!this.#running) return;
      this.#frames.push(now);
      while (this.#frames.length && now - this.#frames[0] > 1000) this.#frames.shift();
      this.fps = this.#frames.length;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    if (typeof PerformanceObserver !== "undefined" && PerformanceObserver.supportedEntryTypes?.includes("longtask")) {
      this.#observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) this.longTasks.push(Math.round(entry.duration));
        this.longTasks.splice(0, Math.max(0, this.longTasks.length - 200));
      });
      this.#observer.observe({ type: "longtask" });
    }
  }

  stop() {
    this.#running = false;
    this.#observer?.disconnect();
  }
}
