/**
 * A small typed-by-convention event emitter: `on` returns an unsubscribe function.
 */
export class Emitter {
  /** @type {Map<string, Set<Function>>} */
  #listeners = new Map();

  /**
   * @param {string} event
   * @param {Function} listener
   * @returns {() => void} call to stop listening
   */
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    return () => this.#listeners.get(event)?.delete(listener);
  }

  /**
   * @param {string} event
   * @param {...any} args
   */
  emit(event, ...args) {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        listener(...args);
      } catch (error) {
        // One failing listener must not keep the event from the others; the error
        // still surfaces as an uncaught one (the console, the page's error handlers).
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  removeAllListeners() {
    this.#listeners.clear();
  }
}
