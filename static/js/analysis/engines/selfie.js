/**
 * Person segmentation with MediaPipe Tasks' ImageSegmenter running the selfie
 * models of @mediapipe/selfie_segmentation (metadata added at setup).
 * Runs in a module worker or on the main thread.
 */
import { FilesetResolver, ImageSegmenter } from "/static/vendor/tasks-vision/vision_bundle.mjs";
import { summariseMask } from "../masks.js";
import { medianMs } from "../../lib/timing.js";

const WASM = "/static/vendor/tasks-vision/wasm";
export const SELFIE_MODELS = {
  landscape: { path: "/static/models/selfie/selfie_landscape.tflite", width: 256, height: 144 },
  general: { path: "/static/models/selfie/selfie_general.tflite", width: 256, height: 256 },
};

export class Engine {
  /** @type {ImageSegmenter | null} */
  #segmenter = null;
  #model = SELFIE_MODELS.landscape;

  /**
   * Load the model on one delegate and time a few frames on it (the caller compares delegates).
   * @param {{model?: "landscape" | "general", delegate?: "CPU" | "GPU"}} options
   */
  async init({ model = "landscape", delegate = "CPU" } = {}) {
    this.#model = SELFIE_MODELS[model];
    // Workers load the ES-module build of the wasm loader; a page loads the classic one with a script tag.
    const fileset = await FilesetResolver.forVisionTasks(WASM, typeof document === "undefined");
    this.#segmenter = await ImageSegmenter.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: this.#model.path, delegate },
      runningMode: "IMAGE",
      outputConfidenceMasks: true,
      outputCategoryMask: false,
    });
    return { engine: "selfie", model, backend: delegate.toLowerCase(), input: this.input, probeMs: await this.probe() };
  }

  /** Median ms to segment a blank frame, reading the mask back included (to compare backends). */
  probe() {
    return medianMs(() => this.run(new ImageData(this.#model.width, this.#model.height)), 4);
  }

  /** The size frames should have when they arrive here. */
  get input() {
    return { width: this.#model.width, height: this.#model.height };
  }

  /** @param {ImageBitmap | ImageData} frame @returns {{mask: import("../masks.js").PersonMask}} */
  run(frame) {
    /** @type {import("../masks.js").PersonMask | undefined} */
    let summary;
    /** @type {ImageSegmenter} */ (this.#segmenter).segment(frame, (result) => { // made by `init`, before `run` is called
      const mask = /** @type {import("/static/vendor/tasks-vision/vision_bundle.mjs").MPMask[]} */ (result.confidenceMasks)[0]; // asked for in `init`
      summary = summariseMask(mask.getAsFloat32Array(), mask.width, mask.height);
      result.close();
    });
    return { mask: /** @type {import("../masks.js").PersonMask} */ (summary) }; // IMAGE mode calls back before `segment` returns
  }

  close() {
    this.#segmenter?.close();
  }
}
