import { io } from "/static/vendor/socket.io.esm.min.js";
import { Emitter } from "../lib/emitter.js";
import { Failure, FAILURE_CODES } from "../lib/failure.js";

/** Server events passed through unchanged (see docs/protocol.md). */
export const SERVER_EVENTS = /** @type {const} */ (["peer-joined", "peer-left", "signal", "chat", "media", "scene", "restored", "replaced", "sfu", "error"]);

/**
 * What the server sends (docs/protocol.md).
 * @typedef {import("./mesh.js").MediaState} MediaState
 * @typedef {import("./mesh.js").PeerInfo} PeerInfo
 * @typedef {{id: string, from: string, name: string, text: string, ts: number}} ChatMessage
 * @typedef {{scene: import("../scene/layout.js").Scene | null, version: number, by: string | null}} SceneState
 * @typedef {{ok: true, id: string, token: string, room: string, name: string, peers: PeerInfo[], chat: ChatMessage[],
 *   scene: SceneState, sfu?: SfuDescription} & IceConfiguration} JoinReply
 * @typedef {import("./sfu.js").SfuDescription} SfuDescription
 * @typedef {{iceServers: RTCIceServer[], iceTransportPolicy?: RTCIceTransportPolicy, iceRenewSeconds?: number | null}} IceConfiguration
 *   `iceRenewSeconds`: when to ask for fresh servers (`ice-servers`); null when they do not expire
 * @typedef {{
 *   join: JoinReply, leave: {ok: true}, signal: {ok: true}, chat: {ok: true, message: ChatMessage},
 *   media: {ok: true}, scene: {ok: true, version: number}, "ice-servers": {ok: true} & IceConfiguration,
 *   "sfu-token": {ok: true, url: string, room: number, tokens: SfuDescription["tokens"]},
 * }} Replies the reply to each request, when `ok`
 * @typedef {{
 *   "peer-joined": [peer: PeerInfo], "peer-left": [peer: {id: string}],
 *   signal: [signal: {from: string, kind: import("./peer.js").SignalKind, data: import("./peer.js").SignalData}],
 *   chat: [message: ChatMessage], media: [media: {id: string} & MediaState], scene: [state: SceneState],
 *   restored: [nothing: {}], replaced: [nothing: {}], sfu: [description: SfuDescription], error: [error: {code: string, message: string, event: string}],
 *   connected: [], reconnected: [], disconnected: [reason: string], "connect-error": [error: Error],
 * }} SignalingEvents
 */

/**
 * The Socket.IO link to the server. Requests resolve with the server's reply or
 * reject with a Failure (the protocol's error code, or `unreachable`); server events are re-emitted under their own
 * names, plus `connected`, `disconnected` and `reconnected` for the link itself.
 */
/** @extends {Emitter<SignalingEvents>} */
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

  /**
   * Start connecting without waiting (the page calls it once loaded, while the person is on
   * the pre-join form), so Join sends the join at once instead of waiting for the WebSocket
   * and Socket.IO handshakes (15 ms on loopback, several round trips to a distant server).
   * After the page's own requests: a balancer counting open requests (nginx least_conn)
   * then weighs websockets alone.
   */
  warmUp() {
    if (!this.#socket.active) this.#socket.connect();
  }

  /** Connect; resolves once connected, rejects with `unreachable` after the timeout. @returns {Promise<void>} */
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
      // `active`: connecting already (it starts at construction, and retries by itself). Asking
      // again meanwhile would send a second CONNECT packet, which the server refuses, closing the link.
      if (!this.#socket.active) this.#socket.connect();
    });
  }

  /**
   * Send one event and wait for its acknowledgement.
   * @template {keyof Replies} E
   * @param {E} event
   * @param {object} payload
   * @returns {Promise<Replies[E]>} the reply, when `ok`
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
