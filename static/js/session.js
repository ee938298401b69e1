import { Emitter } from "./emitter.js";

/** Failures that pass by themselves: the join is kept, to be tried again. */
export const TRANSIENT_FAILURES = ["unreachable", "unavailable"];

/**
 * Membership of one room: join, leave, and join again by itself after the
 * server link comes back (a restarted server has forgotten everyone).
 *
 * Events: `joined(reply)`, `left()`, `failed(error)` when a join is refused.
 */
export class RoomSession extends Emitter {
  #signaling;
  #mesh;
  #room;
  /** @type {{name: string, password: string | null, media: {audio: boolean, video: boolean}} | null} */
  #wanted = null;
  /** The last membership and its token: a rejoin takes it over, name and place included,
   * even while the server still holds it for a connection that is gone. */
  #resume = /** @type {{id: string, token: string} | null} */ (null);
  self = { id: "", name: "" };

  /**
   * @param {{room: string, signaling: import("./signaling.js").SignalingClient, mesh: import("./mesh.js").Mesh}} parts
   */
  constructor({ room, signaling, mesh }) {
    super();
    this.#room = room;
    this.#signaling = signaling;
    this.#mesh = mesh;
  }

  get joined() {
    return Boolean(this.self.id);
  }

  /**
   * @param {{name: string, password: string | null, media: {audio: boolean, video: boolean}}} request
   * @returns {Promise<object>} the join reply; rejects with a SignalingError
   */
  async join(request) {
    this.#wanted = { ...request };
    let reply;
    try {
      await this.#signaling.connect();
      reply = await this.#signaling.request("join", {
        room: this.#room,
        name: request.name,
        media: request.media,
        ...(request.password ? { password: request.password } : {}),
        ...(this.#resume ? { resume: this.#resume } : {}),
      });
    } catch (error) {
      if (!TRANSIENT_FAILURES.includes(error.code)) this.#wanted = null;
      this.emit("failed", error);
      throw error;
    }
    // Rejoining keeps the name the room gave us, so "Ada (2)" stays "Ada (2)".
    this.#wanted.name = reply.name;
    this.#resume = { id: reply.id, token: reply.token };
    this.self = { id: reply.id, name: reply.name };
    this.#mesh.start(reply.id, { iceServers: reply.iceServers, iceTransportPolicy: reply.iceTransportPolicy ?? "all" }, reply.peers);
    this.emit("joined", reply);
    return reply;
  }

  /** Join again with what we joined with last; called when the server link is back. */
  rejoin() {
    if (!this.#wanted) return Promise.resolve(null);
    this.self = { id: "", name: "" };
    return this.join(this.#wanted);
  }

  async leave() {
    this.#wanted = null;
    this.#resume = null;
    this.self = { id: "", name: "" };
    this.#mesh.reset();
    try {
      await this.#signaling.request("leave", {});
    } catch {
      // Not joined any more (or the link is down): the server forgets us on disconnect anyway.
    }
    this.emit("left");
  }

  /** Tell the room our microphone and camera state (kept for rejoining too). @param {{audio: boolean, video: boolean}} media */
  async sendMedia(media) {
    if (this.#wanted) this.#wanted.media = { audio: media.audio, video: media.video };
    if (this.joined) await this.#signaling.request("media", { audio: media.audio, video: media.video });
  }

  /** The read-only view behind `window.ensemble.state()`. */
  state() {
    return { self: { ...this.self }, room: this.#room, peers: this.#mesh.peers() };
  }
}
