/**
 * The analysis worker: hosts one engine (selfie, faces or bodypix) and answers
 * `init`, `probe` (time the backend now) and `run` messages with a result or an error, never both. Frames come
 * in transferred: VideoFrames, scaled here to the engine's input size, or
 * ImageBitmaps already at that size (see frames.js).
 */
import { fitFrame } from "./frames.js";

const ENGINES = {
  selfie: () => import("./engines/selfie.js"),
  faces: () => import("./engines/faces.js"),
  bodypix: () => import("./engines/bodypix.js"),
};

/**
 * This module's global scope, a dedicated worker's (the page's modules, this one included, are
 * checked with the window's types: this is the part of the worker's that it uses).
 * @type {{onmessage: ((event: MessageEvent) => void) | null, postMessage: (message: unknown, transfer?: Transferable[]) => void}}
 */
const scope = /** @type {any} */ (self);

/** @type {import("./runner.js").Engine | null} made by `init`, the first message (runner.js) */
let engine = null;

scope.onmessage = async ({ data }) => {
  let frame = data.frame;
  try {
    if (data.type === "init") {
      const made = /** @type {import("./runner.js").Engine} */ (new (await ENGINES[/** @type {keyof typeof ENGINES} */ (data.engine)]()).Engine());
      engine = made;
      scope.postMessage({ type: "ready", id: data.id, info: await made.init(data.options) });
    } else if (data.type === "probe") {
      scope.postMessage({ type: "probed", id: data.id, ms: await /** @type {import("./runner.js").Engine} */ (engine).probe() });
    } else if (data.type === "run") {
      const start = performance.now();
      frame = await fitFrame(frame, data.size);
      const result = /** @type {{mask?: import("./masks.js").PersonMask}} */ (await /** @type {import("./runner.js").Engine} */ (engine).run(frame, data.options));
      const transfer = result.mask ? [result.mask.alpha.buffer] : [];
      scope.postMessage({ type: "result", id: data.id, result, ms: performance.now() - start }, transfer);
    }
  } catch (caught) {
    const error = /** @type {Error} */ (caught);
    scope.postMessage({ type: "error", id: data.id, error: { name: error.name, message: error.message } });
  } finally {
    frame?.close?.(); // ImageData has nothing to close
  }
};
