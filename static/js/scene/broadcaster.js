import { Failure } from "../lib/failure.js";
import { Emitter } from "../lib/emitter.js";

// H.264 is copied by the server; VP8 and VP9 cost it a transcode (docs/deployment.md, "Broadcasts").
const TYPES = ["video/webm;codecs=h264,opus", "video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus"];
const CHUNK_MS = 500;
const KEYFRAME_MS = 1000; // the server's HLS segments are cut at keyframes: one a second
const MIX_EVERY_MS = 2000; // how often sound of people who joined since is added to the mix

/**
 * Broadcasts the composed scene: MediaRecorder on the canvas and the room's sound,
 * mixed, its WebM chunks posted in order to the server (docs/protocol.md, "Broadcasts"),
 * which makes HLS of them for the watch link.
 *
 * Events: `state(watch)` (the watch link while live, null after), `restarted` (the
 * server's encoder failed once and runs again), `error(failure)` (the broadcast stopped).
 */
/**
 * @typedef {{recorder: MediaRecorder, stream: MediaStream, mix: AudioContext, mixed: Set<string>, timer: number,
 *   sent: Promise<void>, seq: number}} Live a broadcast under way: `seq` is the next chunk's number, -1 once refused
 */
/** @extends {Emitter<{state: [watch: string | null], restarted: [], error: [failure: Failure]}>} */
export class SceneBroadcaster extends Emitter {
  #canvas;
  #room;
  #soundTracks;
  #member = "";
  /** @type {Live | null} */
  #live = null;

  /**
   * @param {HTMLCanvasElement} canvas
   * @param {string} room
   * @param {() => MediaStreamTrack[]} soundTracks the room's sound now: our microphone and everyone's
   */
  constructor(canvas, room, soundTracks) {
    super();
    this.#canvas = canvas;
    this.#room = room;
    this.#soundTracks = soundTracks;
  }

  get live() {
    return this.#live !== null;
  }

  /** "<id>:<token>" of our membership (X-Ensemble-Member), empty when not in the room. @param {string} member */
  setMember(member) {
    this.#member = member;
  }

  async start() {
    if (this.#live) return;
    const type = TYPES.find((candidate) => MediaRecorder.isTypeSupported(candidate));
    if (!type) {
      this.emit("error", new Failure("unsupported_media"));
      return;
    }
    try {
      const reply = await this.#call("POST", "", JSON.stringify({ type }));
      this.#record(type);
      this.emit("state", new URL(reply.watch, location.href).href);
    } catch (error) {
      this.emit("error", /** @type {Failure} */ (error));
    }
  }

  /** Stop recording and tell the server (its playlist ends). */
  stop() {
    const live = this.#live;
    if (!live) return;
    this.#end(live);
    live.sent.then(() => this.#call("DELETE", "")).catch(() => {
      // Refused (the broadcast had already ended on the server): nothing left to stop.
    });
  }

  /** @param {string} type */
  #record(type) {
    const mix = new AudioContext();
    const output = mix.createMediaStreamDestination();
    const stream = new MediaStream([...this.#canvas.captureStream(30).getVideoTracks(), ...output.stream.getAudioTracks()]);
    const options = { mimeType: type, videoBitsPerSecond: 2_500_000, audioBitsPerSecond: 128_000, videoKeyFrameIntervalDuration: KEYFRAME_MS };
    const recorder = new MediaRecorder(stream, /** @type {MediaRecorderOptions} */ (options));
    /** @type {Live} */
    const live = { recorder, stream, mix, mixed: new Set(), timer: 0, sent: Promise.resolve(), seq: 0 };
    const addSound = () => {
      for (const track of this.#soundTracks()) {
        if (live.mixed.has(track.id) || track.readyState !== "live") continue;
        live.mixed.add(track.id);
        mix.createMediaStreamSource(new MediaStream([track])).connect(output);
      }
    };
    addSound();
    live.timer = window.setInterval(addSound, MIX_EVERY_MS);
    recorder.addEventListener("dataavailable", (event) => {
      if (event.data.size) live.sent = live.sent.then(() => this.#send(live, event.data));
    });
    recorder.addEventListener("error", () => this.#fail(live, new Failure("broadcast", "The browser's recorder failed: the broadcast stopped.")));
    recorder.start(CHUNK_MS);
    this.#live = live;
  }

  /** Post one chunk, after the one before. @param {Live} live @param {Blob} chunk */
  async #send(live, chunk) {
    if (live.seq < 0) return; // failed already: the rest would be refused
    try {
      const reply = await this.#call("POST", `/chunks/${live.seq}`, chunk);
      live.seq = reply.next;
      if (reply.restarted) this.emit("restarted");
    } catch (error) {
      live.seq = -1;
      this.#fail(live, /** @type {Failure} */ (error));
    }
  }

  /** @param {Live} live @param {Failure} failure */
  #fail(live, failure) {
    if (this.#live !== live) return;
    this.#end(live);
    this.emit("error", failure);
  }

  /** @param {Live} live */
  #end(live) {
    this.#live = null;
    window.clearInterval(live.timer);
    if (live.recorder.state !== "inactive") live.recorder.stop();
    for (const track of live.stream.getTracks()) track.stop();
    live.mix.close();
    this.emit("state", null);
  }

  /**
   * One request of the broadcast API: its reply, or a rejected Failure.
   * @param {string} method @param {string} path @param {BodyInit} body
   * @returns {Promise<Record<string, any>>}
   */
  async #call(method, path, body = "") {
    const headers = { "X-Ensemble-Member": this.#member };
    let reply;
    try {
      const response = await fetch(`/api/broadcasts/${encodeURIComponent(this.#room)}${path}`, { method, headers, body: body || undefined });
      reply = await response.json();
    } catch (error) {
      throw new Failure("broadcast", "The server could not be reached: the broadcast stopped.", { cause: error });
    }
    if (!reply.ok) throw new Failure("broadcast", `Broadcast stopped: ${reply.error.message}`, { reply });
    return reply;
  }
}
