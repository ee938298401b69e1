/**
 * Which of the faces a detector reports to show: a detection becomes a face
 * once it has come back at the same place, and a face stays through a result
 * or two that miss it, so boxes neither blink on noise nor flicker.
 *
 * Each place a detection was made is a track. A track is shown once it was
 * seen in `hits` of its last `window` results (2 of 3), or at once when a
 * detection of it scores `sureScore` or more (0.9: above every wrong
 * detection measured, which reached 0.88 with TinyFaceDetector at 512). A shown track that the detector
 * misses keeps its last box for `keep` results and is dropped at the next
 * miss; a track not shown yet is dropped as soon as it can no longer reach
 * `hits` of `window`. Results further apart than `forgetMs` do not count
 * together: after such a gap every track starts again. The figures behind the
 * defaults are in docs/benchmarks.md, "Face quality".
 *
 * @typedef {{x: number, y: number, width: number, height: number, score?: number}} Box
 *   a face's box in fractions (0..1) of the frame, with the detector's score
 * @typedef {{window?: number, hits?: number, sureScore?: number, keep?: number,
 *   minOverlap?: number, forgetMs?: number}} TrackerOptions
 *   Two boxes are at the same place when their centres are less than half the wider box's width
 *   apart, or their intersection over union is `minOverlap` or more.
 */

/**
 * @template {Box} F
 * @typedef {{face: F, seen: boolean[], misses: number, shown: boolean}} Track
 *   `seen`: whether each of the track's last `window` results found it (the newest last);
 *   `misses`: how many results in a row have missed it
 */

/**
 * @template {Box} F the faces' own type: they are handed back as they came in
 */
export class FaceTracker {
  /** @type {Track<F>[]} */
  #tracks = [];
  /** @type {number | null} when the last result came in */
  #lastMs = null;
  /** @type {F[]} what the last `update` said to show */
  #shown = [];

  /** @param {TrackerOptions} [options] */
  constructor({ window = 3, hits = 2, sureScore = 0.9, keep = 2, minOverlap = 0.3, forgetMs = 3000 } = {}) {
    this.window = window;
    this.hits = hits;
    this.sureScore = sureScore;
    this.keep = keep;
    this.minOverlap = minOverlap;
    this.forgetMs = forgetMs;
  }

  /**
   * Take one result of the detector and say which faces to show now.
   * @param {F[]} faces what the detector found in this frame
   * @param {number} nowMs when (any clock in ms, the same for every call)
   * @returns {F[]} the faces to show: those of `faces` that count, then the boxes kept from earlier results
   */
  update(faces, nowMs) {
    if (this.#lastMs !== null && nowMs - this.#lastMs > this.forgetMs) this.#tracks = [];
    this.#lastMs = nowMs;
    const matched = this.#match(faces);
    for (const [index, track] of this.#tracks.entries()) {
      const face = matched.get(index);
      track.seen = [...track.seen, face !== undefined].slice(-this.window);
      track.misses = face === undefined ? track.misses + 1 : 0;
      if (face !== undefined) track.face = face;
    }
    const taken = new Set(matched.values());
    const fresh = faces.filter((face) => !taken.has(face));
    this.#tracks.push(...fresh.map((face) => ({ face, seen: [true], misses: 0, shown: false })));
    for (const track of this.#tracks) track.shown ||= this.#earned(track);
    this.#tracks = this.#tracks.filter((track) => this.#alive(track));
    const shown = this.#tracks.filter((track) => track.shown);
    const seenNow = new Set(shown.filter((track) => !track.misses).map((track) => track.face));
    this.#shown = [...faces.filter((face) => seenNow.has(face)), ...shown.filter((track) => track.misses).map((track) => track.face)];
    return this.#shown;
  }

  /** What the last `update` said to show (nothing before the first, or after `reset`). */
  get shown() {
    return this.#shown;
  }

  /** Forget every track (a new stream, or the picture changed completely). */
  reset() {
    this.#tracks = [];
    this.#lastMs = null;
    this.#shown = [];
  }

  /** @param {Track<F>} track */
  #earned(track) {
    const sure = !track.misses && (track.face.score ?? 0) >= this.sureScore;
    return sure || track.seen.filter(Boolean).length >= this.hits;
  }

  /**
   * Shown: until more than `keep` results in a row missed it. Not shown yet: while the next
   * result could still make it `hits` of the last `window`.
   * @param {Track<F>} track
   */
  #alive(track) {
    if (track.shown) return track.misses <= this.keep;
    return track.seen.slice(1 - this.window).filter(Boolean).length + 1 >= this.hits;
  }

  /**
   * Each track gets the face at its place, the nearest pairs first; a face goes to one track at most.
   * @param {F[]} faces @returns {Map<number, F>} by track index
   */
  #match(faces) {
    const pairs = this.#tracks.flatMap((track, index) => faces.map((face) => ({ index, face, apart: apart(track.face, face) })));
    pairs.sort((a, b) => a.apart - b.apart);
    /** @type {Map<number, F>} */
    const matched = new Map();
    const taken = new Set();
    for (const { index, face } of pairs) {
      if (matched.has(index) || taken.has(face) || !this.#samePlace(this.#tracks[index].face, face)) continue;
      matched.set(index, face);
      taken.add(face);
    }
    return matched;
  }

  /** Boxes overlapping by `minOverlap` (intersection over union) or more, or centres less than half a box apart. @param {Box} a @param {Box} b */
  #samePlace(a, b) {
    return apart(a, b) < 0.5 || intersectionOverUnion(a, b) >= this.minOverlap;
  }
}

/** The distance between two boxes' centres, in widths of the wider. @param {Box} a @param {Box} b */
export function apart(a, b) {
  const distance = Math.hypot(a.x + a.width / 2 - (b.x + b.width / 2), a.y + a.height / 2 - (b.y + b.height / 2));
  return distance / Math.max(a.width, b.width, Number.EPSILON);
}

/** @param {Box} a @param {Box} b */
export function intersectionOverUnion(a, b) {
  const width = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const height = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const shared = width * height;
  const union = a.width * a.height + b.width * b.height - shared;
  return union > 0 ? shared / union : 0;
}
