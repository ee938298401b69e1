import { Emitter } from "../lib/emitter.js";
import { Failure } from "../lib/failure.js";

/** Janus forgets a session after `session_timeout` (60 s in config/janus) without a request. */
export const KEEPALIVE_MS = 25_000;
/** How long a request waits for Janus's answer. */
const REQUEST_TIMEOUT_MS = 10_000;
const VIDEOROOM = "janus.plugin.videoroom";

/**
 * @typedef {{readyState: number, send: (data: string) => void, close: () => void,
 *   onopen: ((event: any) => void) | null, onclose: ((event: any) => void) | null,
 *   onerror: ((event: any) => void) | null, onmessage: ((event: {data: any}) => void) | null}} SocketLike
 *   the little of a WebSocket used here (tests give their own)
 * @typedef {{data: Record<string, any>, jsep: RTCSessionDescriptionInit | null}} PluginReply
 * @typedef {{resolve: (message: any) => void, reject: (failure: Failure) => void, timer: any, ackAnswers: boolean}} Pending a request waiting for its answer
 * @typedef {{event: [handle: number, message: Record<string, any>], closed: [failure: Failure]}} JanusEvents
 */

/** Janus said no: its code (the core's or the plugin's `error_code`) and reason. */
export class JanusError extends Failure {
  /** @param {number} status @param {string} reason */
  constructor(status, reason) {
    super("sfu", `The video server refused: ${reason} (${status}).`);
    this.status = status;
  }
}

/**
 * One session on Janus's WebSocket API (subprotocol `janus-protocol`), for the VideoRoom
 * plugin: requests carry a transaction id and `token` (the server's signed core token) and
 * resolve with Janus's answer; a keep-alive goes every KEEPALIVE_MS. What Janus pushes on
 * its own for a handle (plugin events, `webrtcup`, `hangup`, `media`, `trickle`…) is the
 * `event(handle, message)` event; the socket closing or the session lost is `closed(failure)`,
 * after which every pending request has been rejected.
 */
/** @extends {Emitter<JanusEvents>} */
export class JanusSession extends Emitter {
  #url;
  #token;
  #createSocket;
  /** @type {SocketLike | null} */
  #socket = null;
  #sessionId = 0;
  /** @type {Map<string, Pending>} */
  #pending = new Map();
  #keepalive = /** @type {any} */ (0);
  #closed = false;

  /**
   * @param {{url: string, token: string, createSocket?: (url: string) => SocketLike}} options
   *   `createSocket`: a WebSocket speaking `janus-protocol` to `url` by default
   */
  constructor({ url, token, createSocket = (address) => /** @type {SocketLike} */ (/** @type {unknown} */ (new WebSocket(address, "janus-protocol"))) }) {
    super();
    this.#url = url;
    this.#token = token;
    this.#createSocket = createSocket;
  }

  get id() {
    return this.#sessionId;
  }

  /** The token for every request from now on (a renewed one). @param {string} token */
  setToken(token) {
    this.#token = token;
  }

  /** Connect and create the session; rejects with a Failure (`sfu`). */
  async open() {
    const socket = this.#createSocket(this.#url);
    this.#socket = socket;
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Failure("sfu", `The video server at ${this.#url} cannot be reached.`));
      socket.onclose = socket.onerror;
    });
    socket.onmessage = ({ data }) => this.#heard(data);
    socket.onclose = () => this.#lost(new Failure("sfu", "The link to the video server closed."));
    socket.onerror = null;
    const created = await this.#request({ janus: "create" });
    this.#sessionId = created.data.id;
    this.#keepalive = setInterval(() => this.#request({ janus: "keepalive", session_id: this.#sessionId }).catch(() => {
      // A lost session shows as `closed` (Janus's error, or the socket), not here.
    }), KEEPALIVE_MS);
  }

  /** A VideoRoom handle; resolves with its id. */
  async attach() {
    const attached = await this.#request({ janus: "attach", session_id: this.#sessionId, plugin: VIDEOROOM });
    return /** @type {number} */ (attached.data.id);
  }

  /**
   * A message to the plugin; resolves with its answer (the synchronous `success` or the event
   * that answers the transaction), rejects with JanusError when the plugin says `error_code`.
   * @param {number} handle @param {Record<string, unknown>} body @param {RTCSessionDescriptionInit} [jsep]
   * @returns {Promise<PluginReply>}
   */
  async message(handle, body, jsep) {
    const reply = await this.#request({ janus: "message", session_id: this.#sessionId, handle_id: handle, body, ...(jsep ? { jsep } : {}) });
    const data = reply.plugindata?.data ?? {};
    if (data.error_code) throw new JanusError(data.error_code, data.error ?? "");
    return { data, jsep: reply.jsep ?? null };
  }

  /** One of our ICE candidates for a handle (null: gathering is over). @param {number} handle @param {RTCIceCandidateInit | null} candidate */
  trickle(handle, candidate) {
    const message = { janus: "trickle", session_id: this.#sessionId, handle_id: handle, candidate: candidate ?? { completed: true } };
    return this.#request(message).catch(() => {
      // Lost with the session (reported as `closed`); a single missed candidate is healed by an ICE restart.
    });
  }

  /** @param {number} handle */
  detach(handle) {
    return this.#request({ janus: "detach", session_id: this.#sessionId, handle_id: handle }).catch(() => {
      // Gone already, with its session or its room: nothing left to detach.
    });
  }

  /** Destroy the session and close the socket; no `closed` event. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepalive);
    if (this.#sessionId && this.#socket?.readyState === 1) this.#send({ janus: "destroy", session_id: this.#sessionId, transaction: transactionId() });
    this.#rejectAll(new Failure("sfu", "The video server session ended."));
    if (this.#socket) this.#socket.onclose = null;
    this.#socket?.close();
    this.removeAllListeners();
  }

  /** @param {Record<string, unknown>} message @returns {Promise<any>} */
  #request(message) {
    if (this.#closed || this.#socket?.readyState !== 1) return Promise.reject(new Failure("sfu", "The link to the video server is closed."));
    const transaction = transactionId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(transaction);
        reject(new Failure("sfu", `The video server did not answer ${message.janus} in time.`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(transaction, { resolve, reject, timer, ackAnswers: ACK_ANSWERS.includes(String(message.janus)) });
      this.#send({ ...message, transaction, token: this.#token });
    });
  }

  /** @param {Record<string, unknown>} message */
  #send(message) {
    this.#socket?.send(JSON.stringify(message));
  }

  /** @param {unknown} text */
  #heard(text) {
    let message;
    try {
      message = JSON.parse(String(text));
    } catch {
      return; // not JSON: not Janus speaking, nothing to act on
    }
    const waiting = message.transaction ? this.#pending.get(message.transaction) : undefined;
    // A plugin message's `ack` only says it arrived: its answer is the event with the same transaction.
    if (waiting && !(message.janus === "ack" && !waiting.ackAnswers)) return this.#settle(message.transaction, message);
    if (waiting) return;
    if (message.janus === "timeout") return this.#lost(new Failure("sfu", "The video server ended the session."));
    if (message.sender) this.emit("event", message.sender, message);
  }

  /** @param {string} transaction @param {Record<string, any>} message */
  #settle(transaction, message) {
    const waiting = /** @type {Pending} */ (this.#pending.get(transaction));
    this.#pending.delete(transaction);
    clearTimeout(waiting.timer);
    if (message.janus === "error") waiting.reject(new JanusError(message.error?.code ?? 0, message.error?.reason ?? "error"));
    else waiting.resolve(message);
  }

  /** @param {Failure} failure */
  #lost(failure) {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepalive);
    this.#rejectAll(failure);
    this.#socket?.close();
    this.emit("closed", failure);
    this.removeAllListeners();
  }

  /** @param {Failure} failure */
  #rejectAll(failure) {
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(failure);
    }
    this.#pending.clear();
  }
}

/** Requests whose `ack` is the whole answer. */
const ACK_ANSWERS = ["keepalive", "trickle"];

function transactionId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(9)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
