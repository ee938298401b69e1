/**
 * BodyPix person segmentation (MobileNet, TensorFlow.js on WASM).
 *
 * Its weights are in no package registry: `make bodypix` downloads them into
 * static/models/bodypix/ while online. Without them `init` fails with a message
 * saying so, and the page keeps using the selfie engine.
 */
import { summariseMask } from "../masks.js";

const WEIGHTS = "/static/models/bodypix/model-stride16.json";
const SCRIPTS = ["/static/vendor/tfjs/tf.min.js", "/static/vendor/tfjs/tf-backend-wasm.min.js", "/static/vendor/tfjs/body-pix.min.js"];
export const MISSING_WEIGHTS = "BodyPix weights are not installed (run `make bodypix` once while online); using MediaPipe selfie segmentation.";

/**
 * The globals those scripts define: TensorFlow.js with its WASM backend, and BodyPix.
 * @typedef {typeof import("@tensorflow/tfjs-core") & {wasm: typeof import("@tensorflow/tfjs-backend-wasm")}} Tf
 * @typedef {typeof import("@tensorflow-models/body-pix")} BodyPixModule
 * @typedef {import("@tensorflow-models/body-pix").BodyPix} BodyPix
 */
const scriptGlobals = () => /** @type {{tf: Tf, bodyPix: BodyPixModule}} */ (/** @type {unknown} */ (globalThis));

/**
 * The TensorFlow.js and BodyPix builds are classic scripts that define globals;
 * a module worker cannot importScripts, so they are fetched and run in global scope.
 * @param {string} url
 */
async function runClassicScript(url) {
  if (typeof document !== "undefined") {
    await new Promise((resolve, reject) => {
      const script = Object.assign(document.createElement("script"), { src: url, onload: resolve, onerror: reject });
      document.head.append(script);
    });
    return;
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  (0, eval)(await response.text()); // indirect eval: runs in the worker's global scope
}

export class Engine {
  /** @type {BodyPix | null} loaded by `init`, before `run` is called */
  #net = null;
  input = { width: 320, height: 240 };

  /** @param {{backend?: string}} options the TensorFlow.js backend (WASM: the others need a GPU to be fast) */
  async init({ backend = "wasm" } = {}) {
    const probe = await fetch(WEIGHTS, { method: "HEAD" });
    if (!probe.ok) throw new Error(MISSING_WEIGHTS);
    for (const url of SCRIPTS) await runClassicScript(url);
    const { tf, bodyPix } = scriptGlobals();
    tf.wasm.setWasmPaths("/static/vendor/tfjs-wasm/");
    if (!(await tf.setBackend(backend))) throw new Error(`the ${backend} backend is not available`);
    await tf.ready();
    this.#net = await bodyPix.load({ architecture: "MobileNetV1", outputStride: 16, multiplier: 0.5, quantBytes: 4, modelUrl: WEIGHTS });
    return { engine: "bodypix", model: "mobilenet-050-stride16", backend, input: this.input };
  }

  /** @param {ImageBitmap | ImageData} frame */
  async run(frame) {
    const { tf } = scriptGlobals();
    const pixels = tf.browser.fromPixels(frame);
    try {
      const segmentation = await /** @type {BodyPix} */ (this.#net).segmentPerson(pixels, { internalResolution: "medium", segmentationThreshold: 0.6 });
      return { mask: summariseMask(Float32Array.from(segmentation.data), segmentation.width, segmentation.height) };
    } finally {
      pixels.dispose();
    }
  }

  close() {
    this.#net?.dispose();
  }
}
