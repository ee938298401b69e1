import { Emitter } from "../lib/emitter.js";

/** How long to wait before asking again a server that could not reach its room store. */
const UNAVAILABLE_RETRY_MS = 2000;
/** How long to wait before asking again for fresh ICE servers when asking did not work. */
const RENEW_RETRY_MS = 30_000;
/** Janus tokens are renewed this long before they expire (or at half their life, if that is sooner). */
const SFU_RENEW_AHEAD_MS = 60_000;
/** The longest delay setTimeout keeps (about 24.8 days); a longer one fires at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * @typedef {{audio: boolean, video: boolean, screen?: boolean}} MediaChoice
 * @typedef {{name: string, password: string | null, media: MediaChoice}} JoinRequest
 * @typedef {import("../lib/failure.js").Failure} Failure
 * @typedef {{joined: [reply: import("./signaling.js").JoinReply], left: [reason?: "replaced"], error: [failure: Failure, info: {retrying: boolean}]}} SessionEvents
 */

/**
 * Membership of one room: join, leave, and join again by itself whenever that
 * can work: when the server link comes back (a restarted server has forgotten
 * everyone), and a moment after the server could not reach its room store.
 *
 * Events: `joined(reply)`, `left(reason?)` (`"replaced"`: another page took the membership
 * over with its token), and `error(failure, {retrying})` when a join did not work;
 * `retrying` says whether it is tried again by itself.
 */
/** @extends {Emitter<SessionEvents>} */
export class RoomSession extends Emitter {
  #signaling;
  #mesh;
  #room;
  /** @type {JoinRequest} the last join asked for (kept after leaving, for Rejoin) */
  #request = { name: "", password: null, media: { audio: true, video: true } };
  /** Whether the person wants to be in the room: from `join` until `leave` or a refusal. */
  #wanted = false;
  /** The last membership and its token: a rejoin takes it over, name and place included,
   * even while the server still holds it for a connection that is gone. */
  #resume = /** @type {{id: string, token: string} | null} */ (null);
  #self = { id: "", name: "" };
  #retryTimer = 0;
  #renewTimer = 0;
  #sfuRenewTimer = 0;

  /**
   * @param {{room: string, signaling: import("./signaling.js").SignalingClient, mesh: import("./mesh.js").Mesh}} parts
   */
  constructor({ room, signaling, mesh }) {
    super();
    this.#room = room;
    this.#signaling = signaling;
    this.#mesh = mesh;
    signaling.on("reconnected", () => {
      if (this.#wanted) this.#attempt();
    });
    // The room moved to Janus, someone joined it there, or it moved to another instance.
    signaling.on("sfu", (description) => {
      if (!this.joined) return;
      this.#mesh.useSfu(description);
      this.#renewSfuTokensBy(description.tokens.expires);
    });
    signaling.on("replaced", () => {
      // The server has taken this socket out of the room already: nothing to send.
      this.#stop();
      this.emit("left", "replaced");
    });
  }

  get joined() {
    return Boolean(this.#self.id);
  }

  /** Who this browser is in the room (empty until joined). */
  get self() {
    return { ...this.#self };
  }

  /** @returns {JoinRequest} a copy of the last join asked for */
  get request() {
    return structuredClone(this.#request);
  }

  /**
   * Join the room; failures go to the `error` event.
   * @param {JoinRequest} request
   * @returns {Promise<boolean>} whether this attempt joined
   */
  join(request) {
    this.#request = structuredClone(request);
    this.#wanted = true;
    return this.#attempt();
  }

  /** Join again with the last request (a "Try again" or "Rejoin" button). */
  retry() {
    return this.join(this.#request);
  }

  async leave() {
    this.#stop();
    try {
      await this.#signaling.request("leave", {});
    } catch {
      // Not joined any more (or the link is down): the server forgets us on disconnect anyway.
    }
    this.emit("left");
  }

  /**
   * Tell the room our microphone and camera state and whether the video is a shared
   * screen (kept for rejoining too). @param {MediaChoice} media
   */
  async sendMedia(media) {
    this.#request.media = { audio: media.audio, video: media.video, screen: Boolean(media.screen) };
    if (this.joined) await this.#signaling.request("media", this.#request.media);
  }

  /** Stop wanting the room: no rejoin by itself, no renewals, no links. */
  #stop() {
    this.#wanted = false;
    this.#resume = null;
    this.#self = { id: "", name: "" };
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#sfuRenewTimer);
    this.#mesh.reset();
  }

  /** The read-only view behind `window.ensemble.state()`. */
  state() {
    return { self: this.self, room: this.#room, peers: this.#mesh.peers() };
  }

  async #attempt() {
    clearTimeout(this.#retryTimer);
    this.#self = { id: "", name: "" };
    const { name, password, media } = this.#request;
    let reply;
    try {
      await this.#signaling.connect();
      reply = await this.#signaling.request("join", {
        room: this.#room,
        name,
        media: { audio: media.audio, video: media.video },
        ...(password ? { password } : {}),
        ...(this.#resume ? { resume: this.#resume } : {}),
      });
    } catch (error) {
      this.#failed(/** @type {Failure} */ (error)); // what connect and request reject with
      return false;
    }
    if (!this.#wanted) return false; // left while the join was on its way; the server forgets it with `leave`
    // Rejoining keeps the name the room gave us, so "Ada (2)" stays "Ada (2)".
    this.#request.name = reply.name;
    this.#resume = { id: reply.id, token: reply.token };
    this.#self = { id: reply.id, name: reply.name };
    this.#mesh.start(reply.id, { iceServers: reply.iceServers, iceTransportPolicy: reply.iceTransportPolicy ?? "all" }, reply.peers, reply.sfu ?? null);
    this.#renewIceServersIn((reply.iceRenewSeconds ?? 0) * 1000);
    clearTimeout(this.#sfuRenewTimer);
    if (reply.sfu) this.#renewSfuTokensBy(reply.sfu.tokens.expires);
    this.emit("joined", reply);
    // A join carries the microphone and camera; a screen shared across a rejoin is said after it.
    if (media.screen) this.sendMedia(media).catch(() => {});
    return true;
  }

  /**
   * Ask the server for fresh ICE servers in `ms` (time-limited TURN credentials
   * expire: a relayed call must move to new ones before its relay refuses to
   * keep the old allocation), then again when the answer says. A rejoin starts over.
   * @param {number} ms 0: they do not expire
   */
  #renewIceServersIn(ms) {
    clearTimeout(this.#renewTimer);
    if (!ms) return;
    const membership = this.#self.id;
    this.#renewTimer = setTimeout(async () => {
      let reply;
      try {
        reply = await this.#signaling.request("ice-servers", {});
      } catch {
        // The link is down (its rejoin brings fresh ones) or the server said no: ask again later.
        if (this.#self.id === membership) this.#renewIceServersIn(RENEW_RETRY_MS);
        return;
      }
      if (this.#self.id !== membership) return; // left or rejoined meanwhile
      this.#mesh.renewIceServers(reply.iceServers);
      this.#renewIceServersIn((reply.iceRenewSeconds ?? 0) * 1000);
    }, Math.min(ms, MAX_TIMEOUT_MS));
  }

  /**
   * Ask for fresh Janus tokens before those expiring at `expires` (Unix seconds) do: a new
   * subscription or a rejoin with an expired one is refused. A failed ask is tried again soon.
   * @param {number} expires
   */
  #renewSfuTokensBy(expires) {
    clearTimeout(this.#sfuRenewTimer);
    const left = expires * 1000 - Date.now();
    const ms = Math.max(1000, Math.min(left - SFU_RENEW_AHEAD_MS, left / 2));
    const membership = this.#self.id;
    this.#sfuRenewTimer = setTimeout(async () => {
      let reply;
      try {
        reply = await this.#signaling.request("sfu-token", {});
      } catch {
        // The link is down (its rejoin brings fresh ones) or the room is a mesh again: try once more later.
        if (this.#self.id === membership) this.#sfuRenewTimer = setTimeout(() => this.#renewSfuTokensBy(expires), 5000);
        return;
      }
      if (this.#self.id !== membership) return;
      this.#mesh.setSfuTokens(reply.tokens);
      this.#renewSfuTokensBy(reply.tokens.expires);
    }, Math.min(ms, MAX_TIMEOUT_MS));
  }

  /** A join that can work later is tried again by itself; any other refusal ends the wish to join. @param {Failure} failure */
  #failed(failure) {
    const retrying = this.#wanted && (failure.code === "unreachable" || failure.code === "unavailable");
    if (failure.code === "unavailable" && retrying) {
      this.#retryTimer = setTimeout(() => this.#attempt(), UNAVAILABLE_RETRY_MS);
    } else if (failure.code === "unreachable" && retrying && !this.#signaling.everConnected) {
      // Socket.IO keeps trying in the background; its first connection is `connected`, later ones `reconnected`.
      const stop = this.#signaling.on("connected", () => {
        stop();
        if (this.#wanted) this.#attempt();
      });
    }
    if (!retrying) this.#wanted = false;
    this.emit("error", failure, { retrying });
  }
}
