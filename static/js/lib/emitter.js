/**
 * A small event emitter: `on` returns an unsubscribe function.
 *
 * `Events` maps each event's name to the arguments its listeners get, so the
 * checker knows both: a subclass names its own, e.g.
 * `@extends {Emitter<{state: [recording: boolean], done: [blob: Blob]}>}`.
 * @template {Record<string, unknown[]>} [Events=Record<string, any[]>]
 */
export class Emitter {
  /** @type {Map<string, Set<Function>>} */
  #listeners = new Map();

  /**
   * @template {keyof Events & string} E
   * @param {E} event
   * @param {(...args: Events[E]) => void} listener
   * @returns {() => void} call to stop listening
   */
  on(event, listener) {
    let listeners = this.#listeners.get(event);
    if (!listeners) this.#listeners.set(event, (listeners = new Set()));
    listeners.add(listener);
    return () => this.#listeners.get(event)?.delete(listener);
  }

  /**
   * @template {keyof Events & string} E
   * @param {E} event
   * @param {Events[E]} args
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
