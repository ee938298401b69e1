import { Emitter } from "../emitter.js";
import { STICKERS } from "../effects/face-drawing.js";
import { ScenePanel } from "../ui/scene-panel.js";
import { SceneCompositor } from "./compositor.js";
import { SceneEditor } from "./editor.js";
import { withDefaults } from "./layout.js";
import { download, SceneRecorder } from "./recorder.js";
import { SceneSync } from "./sync.js";

/**
 * The composed scene of one room: its canvas, editor, toolbar, recorder and
 * the shared scene they all show. Analysis results come from `analysis`; the
 * page tells it who is in the room (`setSources`) and what the server says
 * about the scene (`receive`).
 *
 * Events: `share(track | null)` to send the composed canvas into the call (or
 * stop), `problem(message)`.
 */
export class SceneRoom extends Emitter {
  #panel;
  #compositor;
  #editor;
  #sync;
  #recorder;
  #analysis;
  #analyse;
  /** @type {import("./compositor.js").Source[]} */
  #sources = [];
  /** @type {MediaStreamTrack | null} */
  #shared = null;
  #analysingSelf = false;
  /** @type {Record<string, object>} */
  #examples = {};

  /**
   * @param {{section: HTMLElement,
   *   send: (scene: object, version: number) => Promise<{version: number}>,
   *   analysis: import("../effects/analysis.js").Analysis, analyse: () => void, cpuCanvas?: boolean}} parts
   *   `analyse` starts the analysis engines (once); `cpuCanvas` see SceneCompositor
   */
  constructor({ section, send, analysis, analyse, cpuCanvas = false }) {
    super();
    this.#analysis = analysis;
    this.#analyse = analyse;
    const part = (/** @type {string} */ name) => /** @type {any} */ (section.querySelector(`[data-scene="${name}"]`));
    this.#panel = new ScenePanel(section);
    this.#compositor = new SceneCompositor(part("canvas"), (id) => analysis.latest(id), { cpuCanvas });
    this.#editor = new SceneEditor({ canvas: part("canvas"), overlay: part("overlay"), text: part("text"), error: part("error"), compositor: this.#compositor });
    this.#compositor.afterDraw = () => this.#editor.drawSelection();
    this.#sync = new SceneSync(send);
    this.#recorder = new SceneRecorder(part("canvas"));

    this.#sync.on("change", (scene) => this.#show(scene));
    this.#sync.on("refused", (error) => this.emit("problem", `The scene edit was refused: ${error.message}`));
    this.#editor.on("edit", (change) => this.#sync.edit(change));

    this.#panel.on("example", (id) => this.#examples[id] && this.#sync.edit(() => structuredClone(this.#examples[id])));
    this.#panel.on("private", (on) => this.#sync.setPrivate(on));
    this.#panel.on("align", (on) => this.#sync.edit((scene) => ({ ...scene, alignFaces: on })));
    this.#panel.on("restack", (direction) => this.#editor.restack(direction));
    this.#panel.on("upload", (file) => this.#upload(file));
    this.#panel.on("photo", () => this.snapshot().then((blob) => download(blob, `ensemble-${stamp()}.png`)));
    this.#panel.on("record", () => (this.#recorder.recording ? this.#recorder.stop() : this.#recorder.start()));
    this.#panel.on("share", () => this.#toggleShare());
    this.#recorder.on("state", (recording) => {
      this.#panel.setRecording(recording);
      this.#updateDrawing();
    });
    this.#recorder.on("done", (blob) => download(blob, `ensemble-${stamp()}.webm`));
    this.#recorder.on("error", (error) => this.emit("problem", `Recording stopped: ${error.message}`));
    this.#show(this.#sync.scene);
  }

  get shown() {
    return this.#panel.shown;
  }

  /** The scene schema and the example scenes, once loaded from the server. */
  useCatalogue({ schema, examples }) {
    this.#editor.useSchema(schema);
    this.#examples = examples;
    this.#panel.setExamples(examples);
  }

  /** Show or hide the scene; hidden, nothing is drawn (unless it is being recorded or shared). @param {boolean} shown */
  setShown(shown) {
    this.#panel.setShown(shown);
    this.#updateDrawing();
  }

  /** The room's scene from the server. @param {{scene: object | null, version: number, by: string | null}} state */
  receive(state) {
    this.#sync.receive(state);
  }

  /** Joined or rejoined: the room's scene as the server has it now. @param {{scene: object | null, version: number, by: string | null}} state */
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
    if (this.#shared) this.#toggleShare();
    this.#show(this.#sync.scene);
  }

  /** Who can appear, self first. @param {import("./compositor.js").Source[]} sources */
  setSources(sources) {
    this.#sources = sources;
    this.#compositor.setSources(sources);
    this.#updateAnalysis();
  }

  /** The composed canvas as a PNG, drawn fresh. @returns {Promise<Blob>} */
  snapshot() {
    this.#compositor.draw();
    return new Promise((resolve, reject) =>
      this.#compositor.canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The picture could not be made."))), "image/png"),
    );
  }

  /** For tests and the stats overlay: where people are drawn and how fast. */
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

  #show(scene) {
    this.#compositor.setScene(scene);
    this.#editor.show(scene);
    const full = withDefaults(scene);
    this.#compositor.canvas.parentElement?.style.setProperty("--scene-aspect", `${full.canvas.width} / ${full.canvas.height}`);
    this.#panel.setScene({ isPrivate: this.#sync.isPrivate, alignFaces: full.alignFaces });
    this.#updateAnalysis();
  }

  #updateDrawing() {
    const needed = this.shown || this.#recorder.recording || this.#shared !== null;
    if (needed) this.#compositor.start();
    else this.#compositor.stop();
    this.#updateAnalysis();
  }

  /** Analyse your own camera while the scene shows you, and ask the face model for what the scene draws. */
  #updateAnalysis() {
    const self = this.#sources.find((source) => source.id === "self");
    const wanted = this.#compositor.running && self ? self.video : null;
    if (wanted && !this.#analysingSelf) {
      this.#analysis.addStream("self", wanted);
      this.#analyse();
    } else if (!wanted && this.#analysingSelf) {
      this.#analysis.removeStream("self");
    }
    this.#analysingSelf = wanted !== null;
    const scene = withDefaults(this.#sync.scene);
    const drawing = this.#compositor.running;
    for (const source of this.#sources) {
      const entry = scene.participants.find((candidate) => candidate.name === source.name);
      const effects = entry?.effects ?? {};
      const anchoredToEyes = scene.overlays.some((overlay) => overlay.anchor?.participant === source.name && overlay.anchor.to === "eyes");
      this.#analysis.setFaceDetail(source.id, {
        landmarks: drawing && Boolean(effects.landmarks || STICKERS[effects.sticker]?.anchor === "eyes" || anchoredToEyes),
        expressions: drawing && Boolean(effects.expression),
      }, "scene");
    }
  }

  async #upload(file) {
    this.#panel.say("Uploading…");
    const body = new FormData();
    body.append("image", file);
    try {
      const response = await fetch("/api/backgrounds", { method: "POST", body });
      const reply = await response.json();
      if (!reply.ok) throw new Error(reply.error.message);
      this.#sync.edit((scene) => ({ ...scene, background: { ...withDefaults(scene).background, image: reply.url } }));
      this.#panel.say(`Background set (${reply.width}×${reply.height}).`);
    } catch (error) {
      this.#panel.say(`Not used: ${/** @type {Error} */ (error).message}`);
    }
  }

  #toggleShare() {
    if (this.#shared) {
      this.#shared.stop();
      this.#shared = null;
    } else {
      this.#shared = this.#compositor.canvas.captureStream(30).getVideoTracks()[0];
    }
    this.#panel.setSharing(this.#shared !== null);
    this.#updateDrawing();
    this.emit("share", this.#shared);
  }
}

function stamp() {
  return new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
}
