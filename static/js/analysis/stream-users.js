import { FaceTracker } from "./face-tracks.js";

/**
 * Stream bookkeeping: per stream, who asked for it to be analysed (several can want the same
 * one: your own camera for the scene and for your peers), and the face tracker of its results.
 */
export class StreamUsers {
  /** @type {Map<string, Set<string>>} per stream, who asked for it */
  #users = new Map();
  /** @type {Map<string, FaceTracker<import("./engines/faces.js").Face>>} per stream analysed here */
  #trackers = new Map();

  /** `user` wants the stream analysed. @param {string} id @param {string} user */
  add(id, user) {
    const users = this.#users.get(id) ?? new Set();
    this.#users.set(id, users.add(user));
  }

  /**
   * `user` no longer wants the stream; when that was the last of them, the stream is forgotten.
   * @param {string} id @param {string} user @returns {boolean} whether nobody wants it any more
   */
  remove(id, user) {
    const users = this.#users.get(id);
    users?.delete(user);
    if (users?.size) return false;
    this.#users.delete(id);
    this.#trackers.delete(id);
    return true;
  }

  /** The face tracker of a stream's results (made on first use). @param {string} id */
  tracker(id) {
    // Results seconds apart still count together: on a slow machine (or the main thread) a face must still show.
    const tracker = this.#trackers.get(id) ?? new FaceTracker({ forgetMs: 10_000 });
    this.#trackers.set(id, tracker);
    return tracker;
  }
}
