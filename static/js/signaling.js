import { io } from "/static/vendor/socket.io.esm.min.js";
import { Emitter } from "./emitter.js";
import { Failure, FAILURE_CODES } from "./failure.js";

/** Server events passed through unchanged (see docs/protocol.md). */
export const SERVER_EVENTS = ["peer-joined", "peer-left", "signal", "chat", "media", "scene", "restored", "error"];

/**
 * The Socket.IO link to the server. Requests resolve with the server's reply or
 * reject with a Failure (the protocol's error code, or `unreachable`); server events are re-emitted under their own
 * names, plus `connected`, `disconnected` and `reconnected` for the link itself.
 */
export class SignalingClient extends Emitter {
  #socket;
  #everConnected = false;
  #timeoutMs;

  /** @param {{url?: string, timeoutMs?: number}} [options] */
  constructor({ url = undefined, timeoutMs = 8000 } = {}) {
    super();
    this.#timeoutMs = timeoutMs;
    this.#socket = io(url, {
      transports: ["websocket"],
      reconnectionDelay: 300,
      reconnectionDelayMax: 2000,
      autoConnect: false,
    });
    this.#socket.on("connect", () => this.#onConnect());
    this.#socket.on("disconnect", (reason) => this.emit("disconnected", reason));
    this.#socket.on("connect_error", (error) => this.emit("connect-error", error));
    for (const event of SERVER_EVENTS) this.#socket.on(event, (payload) => this.emit(event, payload));
  }

  get connected() {
    return this.#socket.connected;
  }

  /** Whether the link was ever up (later connections are `reconnected`). */
  get everConnected() {
    return this.#everConnected;
  }

  /** Connect; resolves once connected, rejects with `unreachable` after the timeout. */
  connect() {
    if (this.#socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stopWaiting();
        reject(new Failure("unreachable"));
      }, this.#timeoutMs);
      const stopWaiting = () => {
        clearTimeout(timer);
        stopConnected();
        stopError();
      };
      const stopConnected = this.on("connected", () => {
        stopWaiting();
        resolve();
      });
      // Socket.IO keeps retrying in the background; the caller hears `connected` later.
      const stopError = this.on("connect-error", () => {
        stopWaiting();
        reject(new Failure("unreachable"));
      });
      this.#socket.connect();
    });
  }

  /**
   * Send one event and wait for its acknowledgement.
   * @param {string} event
   * @param {object} payload
   * @returns {Promise<object>} the reply, when `ok`
   */
  async request(event, payload) {
    let reply;
    try {
      reply = await this.#socket.timeout(this.#timeoutMs).emitWithAck(event, payload);
    } catch {
      // A timeout here means the link dropped mid-request; the caller decides to retry.
      throw new Failure("unreachable", "The server did not answer in time.");
    }
    if (!reply?.ok) {
      const code = reply?.error?.code in FAILURE_CODES ? reply.error.code : "internal";
      throw new Failure(code, reply?.error?.message ?? "Unexpected reply.", { reply });
    }
    return reply;
  }

  close() {
    this.#socket.disconnect();
    this.removeAllListeners();
  }

  #onConnect() {
    const first = !this.#everConnected;
    this.#everConnected = true;
    this.emit(first ? "connected" : "reconnected");
  }
}
