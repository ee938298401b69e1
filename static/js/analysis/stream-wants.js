/**
 * @typedef {{landmarks: boolean, expressions: boolean}} FaceDetail what one part of the page shows of a stream's faces
 * @typedef {{mask: boolean, faces: boolean, landmarks: boolean, expressions: boolean}} Wants
 *   what this page would analyse of a stream, and so asks its sender to share
 */

/**
 * What each page wants shared: per stream, the face detail each part of the page asks for
 * (the tile, the scene), and the wants last announced to the stream's sender, so that a
 * change is announced once.
 */
export class StreamWants {
  /** @type {Map<string, Map<string, FaceDetail>>} per stream, per part of the page that asked */
  #detail = new Map();
  /** @type {Map<string, string>} per stream, the wants last announced (as JSON) */
  #announced = new Map();

  /** What `source` shows of a stream's faces (it replaces what that source asked before). @param {string} id @param {string} source @param {FaceDetail} detail */
  setDetail(id, source, detail) {
    const asked = this.#detail.get(id) ?? new Map();
    this.#detail.set(id, asked.set(source, detail));
  }

  /** The face detail any part of the page asks for, so what the face model adds. @param {string} id @returns {FaceDetail} */
  detail(id) {
    const asked = [...(this.#detail.get(id)?.values() ?? [])];
    return { landmarks: asked.some((one) => one.landmarks), expressions: asked.some((one) => one.expressions) };
  }

  /** What this page wants of a stream. @param {string} id @param {boolean} on whether it analyses that stream at all @returns {Wants} */
  wants(id, on) {
    const detail = this.detail(id);
    return { mask: on, faces: on, landmarks: on && detail.landmarks, expressions: on && detail.expressions };
  }

  /**
   * The wants to announce for a stream, or null when they are those announced last (they count as announced).
   * @param {string} id @param {boolean} on @returns {Wants | null}
   */
  changed(id, on) {
    const wants = this.wants(id, on);
    const said = JSON.stringify(wants);
    if (this.#announced.get(id) === said) return null;
    this.#announced.set(id, said);
    return wants;
  }

  /** The stream is gone: whoever shows it again asks again. @param {string} id */
  forget(id) {
    this.#detail.delete(id);
    this.#announced.delete(id);
  }
}
