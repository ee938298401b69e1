/**
 * Whether a peer on Janus can hear us over the data channels. Janus relays what a page
 * publishes on its data channel to everyone subscribed to it, so a message to one peer
 * goes out on our own channel (addressed to it) and arrives only once that peer has
 * subscribed to us. A greeting says so: each side says `hello` (our subscription to the
 * peer works, and whether we have heard the peer) until the peer answers that it heard
 * us. Hearing the peer's hello proves both ways work: it subscribed to us before saying
 * it, and it reached us through our subscription to it.
 *
 * @typedef {{heard: boolean}} Hello
 */
export class Greeting {
  #say;
  #opened;
  #heard = false;
  #answered = false;

  /** @param {(hello: Hello) => void} say sends a hello to the peer @param {() => void} opened called once, when the peer can hear us */
  constructor(say, opened) {
    this.#say = say;
    this.#opened = opened;
  }

  /** Whether the peer can hear us. */
  get open() {
    return this.#heard;
  }

  /** Whether hellos still need saying (the caller says one every so often while it does). */
  get pending() {
    return !this.#answered;
  }

  /** Say hello again unless the peer has answered. */
  tick() {
    if (!this.#answered) this.#say({ heard: this.#heard });
  }

  /** The peer's hello (unchecked JSON). @param {unknown} hello */
  heard(hello) {
    const first = !this.#heard;
    this.#heard = true;
    if (/** @type {Hello | null} */ (hello)?.heard === true) this.#answered = true;
    else this.#say({ heard: true });
    if (first) this.#opened();
  }
}
