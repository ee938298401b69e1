/**
 * Person segmentation with MediaPipe Tasks' ImageSegmenter running the selfie
 * models of @mediapipe/selfie_segmentation (metadata added at setup).
 * Runs in a module worker or on the main thread.
 */
import { FilesetResolver, ImageSegmenter } from "/static/vendor/tasks-vision/vision_bundle.mjs";
import { summariseMask } from "../masks.js";
import { medianMs } from "../timing.js";

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
   * Load the model on each delegate asked for, time a few frames on each and keep the faster.
   * @param {{model?: "landscape" | "general", delegates?: Array<"CPU" | "GPU">}} options
   */
  async init({ model = "landscape", delegates = ["CPU", "GPU"] } = {}) {
    this.#model = SELFIE_MODELS[model];
    // Workers load the ES-module build of the wasm loader; a page loads the classic one with a script tag.
    const fileset = await FilesetResolver.forVisionTasks(WASM, typeof document === "undefined");
    const probe = new ImageData(this.#model.width, this.#model.height);
    const timings = {};
    // One segmenter per wasm module: each delegate is tried by reconfiguring it.
    for (const delegate of delegates) {
      try {
        const baseOptions = { modelAssetPath: this.#model.path, delegate };
        if (this.#segmenter) await this.#segmenter.setOptions({ baseOptions });
        else {
          this.#segmenter = await ImageSegmenter.createFromOptions(fileset, {
            baseOptions,
            runningMode: "IMAGE",
            outputConfidenceMasks: true,
            outputCategoryMask: false,
          });
        }
        timings[delegate] = await medianMs(() => this.run(probe), 4); // reading the mask back included
      } catch (error) {
        timings[delegate] = `unavailable (${error.message})`; // the other delegate still runs
      }
    }
    const measured = delegates.filter((delegate) => typeof timings[delegate] === "number");
    this.backend = measured.sort((a, b) => timings[a] - timings[b])[0];
    if (!this.backend) throw new Error(`selfie segmentation could not start: ${JSON.stringify(timings)}`);
    // The segmenter is set up for the delegate tried last (even if that try failed): switch if another won.
    if (this.backend !== delegates.at(-1)) {
      await this.#segmenter.setOptions({ baseOptions: { modelAssetPath: this.#model.path, delegate: this.backend } });
    }
    return { engine: "selfie", model, backend: this.backend.toLowerCase(), input: { width: this.#model.width, height: this.#model.height }, timings };
  }

  /** The size frames should have when they arrive here. */
  get input() {
    return { width: this.#model.width, height: this.#model.height };
  }

  /** @param {ImageBitmap | ImageData} frame @returns {{mask: import("../masks.js").PersonMask}} */
  run(frame) {
    let summary;
    this.#segmenter.segment(frame, (result) => {
      const mask = result.confidenceMasks[0];
      summary = summariseMask(mask.getAsFloat32Array(), mask.width, mask.height);
      result.close();
    });
    return { mask: summary };
  }

  close() {
    this.#segmenter?.close();
  }
}
