import { Emitter } from "../lib/emitter.js";
import { STICKERS } from "../draw/face-drawing.js";
import { asFailure, Failure } from "../lib/failure.js";
import { withDefaults } from "./layout.js";
import { SELF } from "../call/media.js";

/**
 * The composed scene of one room: what is on show (the shared scene, or a
 * private copy), whether it is drawn, recorded or sent into the call, and what
 * the analysis must find for it. It owns that state and changes it only
 * through its methods; a view follows its events. The page tells it who is in
 * the room (`setSources`) and what the server says about the scene (`receive`).
 *
 * Events: `shown(boolean)`, `state({isPrivate, alignFaces, aspect})` when the
 * scene on show changes, `recording(boolean)`, `share(track | null)` to send the
 * composed canvas into the call instead of the camera (or stop), `status(text)`
 * for the scene's own status line, `photo(blob)`, `video(blob)` (a finished
 * recording), `broadcast(watch | null)` (the watch link while the scene is
 * broadcast), `error(failure)`.
 *
 * @typedef {import("./layout.js").Scene} Scene
 * @typedef {import("../call/signaling.js").SceneState} SceneState
 * @typedef {{isPrivate: boolean, alignFaces: boolean, aspect: string}} ViewState
 * @typedef {{
 *   shown: [shown: boolean], state: [state: ViewState], recording: [recording: boolean], share: [track: MediaStreamTrack | null],
 *   broadcast: [watch: string | null],
 *   status: [text: string], photo: [blob: Blob], video: [blob: Blob], error: [failure: Failure],
 * }} SceneRoomEvents
 */
/** @extends {Emitter<SceneRoomEvents>} */
export class SceneRoom extends Emitter {
  #compositor;
  #editor;
  #sync;
  #recorder;
  #broadcaster;
  #analysis;
  #analyse;
  #shown = false;
  /** @type {import("./compositor.js").Source[]} */
  #sources = [];
  /** @type {MediaStreamTrack | null} */
  #shared = null;
  #analysingSelf = false;
  /** @type {Record<string, Scene>} */
  #examples = {};
  /** "<id>:<token>" of our membership (X-Ensemble-Member), empty until joined. */
  #member = "";

  /**
   * @param {{compositor: import("./compositor.js").SceneCompositor, editor: import("./editor.js").SceneEditor,
   *   sync: import("./sync.js").SceneSync, recorder: import("./recorder.js").SceneRecorder,
   *   broadcaster: import("./broadcaster.js").SceneBroadcaster,
   *   analysis: import("../analysis/analysis.js").Analysis, analyse: () => void}} parts
   *   `analyse` starts the analysis engines (once)
   */
  constructor({ compositor, editor, sync, recorder, broadcaster, analysis, analyse }) {
    super();
    this.#compositor = compositor;
    this.#editor = editor;
    this.#sync = sync;
    this.#recorder = recorder;
    this.#broadcaster = broadcaster;
    this.#analysis = analysis;
    this.#analyse = analyse;
    compositor.on("drawn", () => editor.drawSelection());
    sync.on("change", (scene) => this.#show(scene));
    sync.on("error", (error) => this.emit("error", new Failure("scene-refused", `The scene edit was refused: ${error.message}`, { cause: error })));
    editor.on("edit", (change) => sync.edit(change));
    recorder.on("state", (recording) => {
      this.emit("recording", recording);
      this.#updateDrawing();
    });
    recorder.on("done", (blob) => this.emit("video", blob));
    recorder.on("error", (failure) => this.emit("error", failure));
    broadcaster.on("state", (watch) => {
      this.emit("broadcast", watch);
      this.#updateDrawing();
    });
    broadcaster.on("restarted", () => this.emit("status", "The broadcast's encoder failed and runs again."));
    broadcaster.on("error", (failure) => this.emit("error", failure));
    this.#show(sync.scene);
  }

  get shown() {
    return this.#shown;
  }

  /** What a view of the scene shows besides the canvas (the `state` event says when it changes). @returns {ViewState} */
  get viewState() {
    const full = withDefaults(this.#sync.scene);
    return { isPrivate: this.#sync.isPrivate, alignFaces: full.alignFaces, aspect: `${full.canvas.width} / ${full.canvas.height}` };
  }

  /** Whether the composed canvas goes into the call instead of the camera. */
  get sharing() {
    return this.#shared !== null;
  }

  /**
   * The scene schema and the example scenes, once loaded from the server.
   * @param {{schema: import("./schema.js").SceneSchema, examples: Record<string, Scene>}} catalogue
   */
  useCatalogue({ schema, examples }) {
    this.#editor.useSchema(schema);
    this.#examples = examples;
  }

  /** Show or hide the scene; hidden, nothing is drawn (unless it is being recorded or shared). @param {boolean} shown */
  setShown(shown) {
    this.#shown = shown;
    this.emit("shown", shown);
    this.#updateDrawing();
  }

  /** Put one of the example scenes on show (for the room, or privately). @param {string} id */
  useExample(id) {
    const example = this.#examples[id];
    if (example) this.#sync.edit(() => structuredClone(example));
  }

  /** @param {boolean} on */
  setPrivate(on) {
    this.#sync.setPrivate(on);
  }

  /** @param {boolean} on */
  setAlignFaces(on) {
    this.#sync.edit((scene) => ({ ...scene, alignFaces: on }));
  }

  /** Bring the selected person forward (+1) or send them back (-1). @param {number} direction */
  restack(direction) {
    this.#editor.restack(direction);
  }

  /** The room's scene from the server. @param {SceneState} state */
  receive(state) {
    this.#sync.receive(state);
  }

  /** Joined or rejoined: the room's scene as the server has it now. @param {SceneState} state */
  joined(state) {
    this.#sync.joined(state);
  }

  /** The server lost the room's scene (its store came back empty): give ours back. */
  restored() {
    this.#sync.joined({ scene: null, version: 0, by: null });
  }

  /** Left the room: forget its scene, stop recording and sharing. */
  reset() {
    this.#sync.reset();
    this.#recorder.stop();
    this.#broadcaster.stop();
    if (this.#shared) this.toggleShare();
    this.#show(this.#sync.scene);
  }

  /** Who can appear, self first. @param {import("./compositor.js").Source[]} sources */
  setSources(sources) {
    this.#sources = sources;
    this.#compositor.setSources(sources);
    this.#updateAnalysis();
  }

  /** The composed canvas as a PNG, drawn fresh. @returns {Promise<Blob>} rejects with a Failure (`photo`) */
  snapshot() {
    this.#compositor.draw();
    return new Promise((resolve, reject) =>
      this.#compositor.canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Failure("photo"))), "image/png"),
    );
  }

  /** Take the group photo: `photo(blob)`, or `error`. */
  takePhoto() {
    this.snapshot().then(
      (blob) => this.emit("photo", blob),
      (failure) => this.emit("error", failure),
    );
  }

  toggleRecording() {
    if (this.#recorder.recording) this.#recorder.stop();
    else this.#recorder.start();
  }

  toggleBroadcast() {
    if (this.#broadcaster.live) this.#broadcaster.stop();
    else this.#broadcaster.start();
  }

  toggleShare() {
    if (this.#shared) {
      this.#shared.stop();
      this.#shared = null;
    } else {
      this.#shared = this.#compositor.canvas.captureStream(30).getVideoTracks()[0];
    }
    this.#updateDrawing();
    this.emit("share", this.#shared);
  }

  /**
   * Who we are in the room, from the join reply: uploads prove membership with it
   * (the server takes pictures only from members). Null once left.
   * @param {{id: string, token: string} | null} member
   */
  setMember(member) {
    this.#member = member ? `${member.id}:${member.token}` : "";
    this.#broadcaster.setMember(this.#member);
  }

  /** Upload a background picture and put it behind everyone. @param {File} file */
  async upload(file) {
    this.emit("status", "Uploading…");
    const body = new FormData();
    body.append("image", file);
    try {
      const headers = { "X-Ensemble-Member": this.#member };
      const response = await fetch("/api/backgrounds", { method: "POST", body, headers });
      const reply = await response.json();
      if (!reply.ok) throw new Failure("upload", `Not used: ${reply.error.message}`, { reply });
      this.#sync.edit((scene) => ({ ...scene, background: { ...withDefaults(scene).background, image: reply.url } }));
      this.emit("status", `Background set (${reply.width}×${reply.height}).`);
    } catch (error) {
      this.emit("error", asFailure(error, "upload", "Not used"));
    }
  }

  /** For tests and the stats overlay: where people are drawn and how fast. */
  /** The last cut-outs drawn of one person: the frame drawn and the frame its mask came from (for tests). @param {string} id */
  drawnFrames(id) {
    return this.#compositor.drawnFrames(id);
  }

  describe() {
    return {
      shown: this.shown,
      private: this.#sync.isPrivate,
      version: this.#sync.version,
      scene: this.#sync.scene,
      placements: this.#compositor.placements.map(({ id, name, x, y, width, height, z }) => ({ id, name, x, y, width, height, z })),
      ...this.#compositor.stats(),
    };
  }

  /** @param {Scene} scene */
  #show(scene) {
    this.#compositor.setScene(scene);
    this.#editor.show(scene);
    this.emit("state", this.viewState);
    this.#updateAnalysis();
  }

  #updateDrawing() {
    const needed = this.#shown || this.#recorder.recording || this.#broadcaster.live || this.#shared !== null;
    if (needed) this.#compositor.start();
    else this.#compositor.stop();
    this.#updateAnalysis();
  }

  /** Analyse your own camera while the scene shows you, and ask the face model for what the scene draws. */
  #updateAnalysis() {
    const self = this.#sources.find((source) => source.id === SELF);
    const wanted = this.#compositor.running && self ? self.video : null;
    if (wanted && !this.#analysingSelf) {
      this.#analysis.addStream(SELF, wanted, "scene");
      this.#analyse();
    } else if (!wanted && this.#analysingSelf) {
      this.#analysis.removeStream(SELF, "scene");
    }
    this.#analysingSelf = wanted !== null;
    const scene = withDefaults(this.#sync.scene);
    const drawing = this.#compositor.running;
    for (const source of this.#sources) {
      const entry = scene.participants.find((candidate) => candidate.name === source.name);
      const effects = entry?.effects ?? {};
      const anchoredToEyes = scene.overlays.some((overlay) => overlay.anchor?.participant === source.name && overlay.anchor.to === "eyes");
      this.#analysis.setFaceDetail(source.id, {
        landmarks: drawing && Boolean(effects.landmarks || STICKERS[effects.sticker ?? ""]?.anchor === "eyes" || anchoredToEyes),
        expressions: drawing && Boolean(effects.expression),
      }, "scene");
    }
  }
}
