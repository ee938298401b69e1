import { Emitter } from "../lib/emitter.js";
import { Failure } from "../lib/failure.js";

/** The id your own camera goes by wherever peers' streams are kept by id: tiles, analysis, the scene, changes made. */
export const SELF = "self";

/** What a person is told when their camera or microphone cannot start, by failure code. */
const MESSAGES = {
  "media-denied": "Camera and microphone access was denied. Allow it in the browser's site settings and reload, or join without them.",
  "media-missing": "No camera or microphone was found. Connect one and reload, or join without them.",
  "media-busy": "The camera or microphone is in use by another program. Close it and reload, or join without them.",
  "media-unsupported": "This browser cannot use cameras here. Use a current Chrome or Chromium, on https:// or localhost.",
  "media-failed": "The camera or microphone could not start.",
};

/** @param {unknown} error @returns {Failure} */
function explain(error) {
  const name = /** @type {{name?: string}} */ (error)?.name;
  const code =
    name === "NotAllowedError" || name === "SecurityError" ? "media-denied"
    : name === "NotFoundError" || name === "OverconstrainedError" ? "media-missing"
    : name === "NotReadableError" || name === "AbortError" ? "media-busy"
    : "media-failed";
  return new Failure(code, MESSAGES[code], { cause: error });
}

/**
 * The camera, microphone and screen this browser sends. `stream` always holds
 * the tracks being sent; when one changes, `track(kind, track)` is emitted so
 * every peer connection can swap it without renegotiating. `state(state)` says
 * what is on.
 *
 * @typedef {{audio: boolean, video: boolean, screen: boolean}} LocalMediaState
 * @typedef {{track: [kind: "audio" | "video", track: MediaStreamTrack | null], state: [state: LocalMediaState]}} LocalMediaEvents
 */
/** @extends {Emitter<LocalMediaEvents>} */
export class LocalMedia extends Emitter {
  stream = new MediaStream();
  #audioOn = true;
  #videoOn = true;
  #sharing = false;
  /** @type {{audioinput?: string, videoinput?: string}} */
  #deviceIds = {};
  /** @type {MediaStreamTrack | null} */
  #cameraTrack = null;

  static get supported() {
    // mediaDevices is missing outside secure contexts, whatever the DOM types say.
    return Boolean(typeof navigator.mediaDevices?.getUserMedia === "function" && window.RTCPeerConnection);
  }

  /** @returns {LocalMediaState} */
  get state() {
    return { audio: this.#audioOn && this.#track("audio") !== null, video: this.#videoOn && this.#track("video") !== null, screen: this.#sharing };
  }

  /**
   * Open camera and microphone; rejects with a Failure (`media-*`).
   * @param {{audio?: boolean, video?: boolean}} [start] what is on at first
   */
  async start({ audio = true, video = true } = {}) {
    if (!LocalMedia.supported) throw new Failure("media-unsupported", MESSAGES["media-unsupported"]);
    const captured = await this.#captureWhatExists();
    for (const track of captured.getTracks()) this.#put(/** @type {"audio" | "video"} */ (track.kind), track);
    this.#cameraTrack = this.#track("video");
    this.setAudioEnabled(audio);
    await this.setVideoEnabled(video);
  }

  /** @param {boolean} on */
  setAudioEnabled(on) {
    this.#audioOn = on;
    const track = this.#track("audio");
    if (track) track.enabled = on;
    this.emit("state", this.state);
  }

  /** Camera off releases the camera (its light goes out); on opens it again. @param {boolean} on */
  async setVideoEnabled(on) {
    this.#videoOn = on;
    if (this.#sharing) return this.emit("state", this.state);
    if (!on) {
      this.#cameraTrack?.stop();
      this.#cameraTrack = null;
      this.#put("video", null);
    } else if (!this.#cameraTrack || this.#cameraTrack.readyState === "ended") {
      await this.#openCamera();
    }
    this.emit("state", this.state);
  }

  /**
   * Switch to another camera or microphone.
   * @param {"audioinput" | "videoinput"} kind
   * @param {string} deviceId
   */
  async useDevice(kind, deviceId) {
    this.#deviceIds[kind] = deviceId;
    if (kind === "videoinput") {
      if (!this.#videoOn) return;
      this.#cameraTrack?.stop();
      this.#cameraTrack = null;
      return this.#openCamera();
    }
    const captured = await this.#capture({ audio: this.#constraint("audioinput") });
    const track = captured.getAudioTracks()[0];
    track.enabled = this.#audioOn;
    this.#track("audio")?.stop();
    this.#put("audio", track);
  }

  /** Send the screen instead of the camera until stopped (by us or by the browser's own bar). */
  async shareScreen() {
    let captured;
    try {
      captured = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      throw new Failure("screen", `Screen sharing did not start (${/** @type {Error} */ (error).message}).`, { cause: error });
    }
    const screen = captured.getVideoTracks()[0];
    screen.addEventListener("ended", () => this.stopScreen());
    this.#sharing = true;
    this.#put("video", screen);
    this.emit("state", this.state);
  }

  stopScreen() {
    if (!this.#sharing) return;
    this.#track("video")?.stop();
    this.#sharing = false;
    this.#put("video", this.#videoOn ? this.#cameraTrack : null);
    this.emit("state", this.state);
  }

  /** Cameras and microphones, for pickers. @returns {Promise<{audioinput: MediaDeviceInfo[], videoinput: MediaDeviceInfo[]}>} */
  async devices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      audioinput: all.filter((device) => device.kind === "audioinput"),
      videoinput: all.filter((device) => device.kind === "videoinput"),
    };
  }

  /** The device in use for a kind, if known. @param {"audioinput" | "videoinput"} kind */
  deviceId(kind) {
    const track = this.#track(kind === "audioinput" ? "audio" : "video");
    return this.#deviceIds[kind] ?? track?.getSettings().deviceId ?? "";
  }

  stop() {
    for (const track of this.stream.getTracks()) track.stop();
    this.#cameraTrack?.stop();
  }

  async #openCamera() {
    const captured = await this.#capture({ video: this.#constraint("videoinput") });
    this.#cameraTrack = captured.getVideoTracks()[0];
    if (!this.#sharing) this.#put("video", this.#cameraTrack);
  }

  /** Camera and microphone, or whichever of the two this machine has. */
  async #captureWhatExists() {
    const audio = this.#constraint("audioinput");
    const video = this.#constraint("videoinput");
    let firstError;
    for (const constraints of [{ audio, video }, { video }, { audio }]) {
      try {
        return await navigator.mediaDevices.getUserMedia(constraints);
      } catch (error) {
        firstError ??= error;
        // Only a missing device is worth retrying with less; a refusal is final.
        if (/** @type {Error} */ (error).name !== "NotFoundError") break;
      }
    }
    throw explain(firstError);
  }

  /** @param {MediaStreamConstraints} constraints */
  async #capture(constraints) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (error) {
      throw explain(error);
    }
  }

  /** @param {"audioinput" | "videoinput"} kind */
  #constraint(kind) {
    const deviceId = this.#deviceIds[kind];
    const base = kind === "videoinput" ? { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } } : { echoCancellation: true, noiseSuppression: true };
    return deviceId ? { ...base, deviceId: { exact: deviceId } } : base;
  }

  /** @param {string} kind @returns {MediaStreamTrack | null} */
  #track(kind) {
    return this.stream.getTracks().find((track) => track.kind === kind) ?? null;
  }

  /** Make `track` the one sent for `kind` (null: send nothing). @param {"audio" | "video"} kind @param {MediaStreamTrack | null} track */
  #put(kind, track) {
    const current = this.#track(kind);
    if (current === track) return;
    if (current) this.stream.removeTrack(current);
    if (track) this.stream.addTrack(track);
    this.emit("track", kind, track);
  }
}
