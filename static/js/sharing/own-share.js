import { epochMs } from "../lib/timing.js";
import { Fingerprinter } from "./fingerprint.js";
import { SELF } from "../call/media.js";

/**
 * Your own camera, analysed once here for everyone: while any peer wants a
 * mask or faces of you (each says so over its data channel), your camera is
 * one more stream of the analysis scheduler, at the rate this machine affords,
 * and each result goes to your peers with the frame it was computed on
 * (SharingTransport). Landmarks and expressions go only while some peer shows
 * them. Nothing is analysed for peers while you send something else than
 * your camera (a screen, the scene) or sharing is off.
 *
 * A result names its frame by capture time: the analysed VideoFrame's
 * timestamp is the video element's media time, and the element's frame
 * callbacks say when that media time was captured. That names it within a
 * few frames; a mask also carries the frame's fingerprint, by which a
 * receiver finds the very frame among those around it.
 *
 * @typedef {import("../analysis/analysis.js").Wants} Wants
 */
export class OwnShare {
  #analysis;
  #transport;
  #enabled;
  /** @type {Map<string, Wants>} per peer */
  #wants = new Map();
  /** @type {HTMLVideoElement | null} */
  #video = null;
  #sendingCamera = true;
  #active = false;
  /** @type {number | null} capture time (performance ms) less media time (ms) of the camera's frames */
  #captureOffset = null;
  #frameCallback = 0;
  /** @type {HTMLVideoElement | null} the element whose frame callbacks are followed */
  #watched = null;
  #fingerprinter = new Fingerprinter();

  /**
   * @param {{analysis: import("../analysis/analysis.js").Analysis, transport: import("./transport.js").SharingTransport,
   *   analyse: () => void, enabled: boolean}} parts `analyse` starts the analysis engines (once);
   *   `enabled: false`: this page analyses nothing of its own for peers (it still reads what they share)
   */
  constructor({ analysis, transport, analyse, enabled }) {
    this.#analysis = analysis;
    this.#transport = transport;
    this.#enabled = enabled;
    this.analyse = analyse;
    analysis.on("result", (id, model, frame) => {
      if (id === SELF && this.#active && frame.timestamp !== null) this.#share(model, frame.timestamp, frame.fingerprint);
    });
  }

  /** Your camera's video element while in a room, else null. @param {HTMLVideoElement | null} video */
  setVideo(video) {
    if (video === this.#video) return;
    if (this.#watched) this.#watched.cancelVideoFrameCallback(this.#frameCallback);
    this.#watched = null;
    this.#video = video;
    this.#captureOffset = null;
    this.#update();
  }

  /** Whether your peers receive your camera (not a screen or the scene). @param {boolean} camera */
  setSendingCamera(camera) {
    this.#sendingCamera = camera;
    this.#update();
  }

  /**
   * What one peer wants of you, as it said (unchecked JSON: anything not `true` is `false`).
   * @param {string} peer @param {any} said
   */
  setWants(peer, said) {
    const yes = (/** @type {string} */ key) => said?.[key] === true;
    this.#wants.set(peer, { mask: yes("mask"), faces: yes("faces"), landmarks: yes("landmarks"), expressions: yes("expressions") });
    this.#update();
  }

  /** @param {string} peer */
  forget(peer) {
    this.#wants.delete(peer);
    this.#update();
  }

  /** What you share now and what it costs: `window.ensemble.sharing()`. */
  describe() {
    const self = this.#active ? this.#analysis.describe(SELF) : null;
    return {
      on: this.#enabled && this.#transport.enabled,
      active: this.#active,
      shares: this.#active ? this.#wanted() : { mask: false, faces: false, landmarks: false, expressions: false },
      peersWanting: [...this.#wants.values()].filter((wants) => wants.mask || wants.faces).length,
      ...this.#transport.rate,
      received: this.#transport.received,
      hz: { mask: self?.hz.mask ?? null, faces: self?.hz.faces ?? null },
      inferenceMs: { mask: self?.inferenceMs.mask ?? null, faces: self?.inferenceMs.faces ?? null },
    };
  }

  /** The union of what peers want. @returns {Wants} */
  #wanted() {
    const all = [...this.#wants.values()];
    const any = (/** @type {keyof Wants} */ key) => all.some((wants) => wants[key]);
    return { mask: any("mask"), faces: any("faces"), landmarks: any("landmarks"), expressions: any("expressions") };
  }

  #update() {
    const wanted = this.#wanted();
    const active = this.#enabled && this.#transport.enabled && this.#sendingCamera && this.#video !== null && (wanted.mask || wanted.faces);
    if (active && this.#video) {
      this.#analysis.addStream(SELF, this.#video, "peers", { fingerprint: (frame) => (this.#active ? this.#fingerprinter.take(frame) : null) });
      this.#analysis.setFaceDetail(SELF, { landmarks: wanted.landmarks, expressions: wanted.expressions }, "peers");
      if (this.#watched !== this.#video) this.#watchFrames(this.#video);
      this.analyse();
    } else if (this.#active) {
      this.#analysis.removeStream(SELF, "peers");
    }
    this.#active = active;
  }

  /** Learn when the camera's frames were captured, from the element's frame callbacks. @param {HTMLVideoElement} video */
  #watchFrames(video) {
    /** @type {VideoFrameRequestCallback} */
    const seen = (_now, metadata) => {
      if (metadata.captureTime !== undefined) {
        this.#captureOffset = metadata.captureTime - metadata.mediaTime * 1000;
      }
      if (this.#active && this.#watched === video) this.#frameCallback = video.requestVideoFrameCallback(seen);
      else if (this.#watched === video) this.#watched = null;
    };
    this.#watched = video;
    this.#frameCallback = video.requestVideoFrameCallback(seen);
  }

  /**
   * @param {"mask" | "faces"} model @param {number} timestamp µs, the analysed VideoFrame's
   * @param {unknown} print the frame's fingerprint (masks only)
   */
  #share(model, timestamp, print) {
    const result = this.#analysis.latest(SELF)?.results[model];
    if (!result || this.#captureOffset === null) return;
    const wanted = this.#wanted();
    if (!wanted[model]) return;
    const capturedAt = performance.timeOrigin + this.#captureOffset + timestamp / 1000;
    if (epochMs() - capturedAt > STALE_MS) return; // a camera that stalled, or a clock we misread: better nothing
    const detail = { landmarks: wanted.landmarks, expressions: wanted.expressions };
    this.#transport.send(result, capturedAt, detail, /** @type {import("./packet.js").Fingerprint | null} */ (print ?? null));
  }
}

/** A result about a frame older than this is not sent (transform.js would drop it anyway). */
const STALE_MS = 500;
