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

let engine = null;

self.onmessage = async ({ data }) => {
  let frame = data.frame;
  try {
    if (data.type === "init") {
      engine = new (await ENGINES[data.engine]()).Engine();
      self.postMessage({ type: "ready", id: data.id, info: await engine.init(data.options) });
    } else if (data.type === "probe") {
      self.postMessage({ type: "probed", id: data.id, ms: await engine.probe() });
    } else if (data.type === "run") {
      const start = performance.now();
      frame = await fitFrame(frame, data.size);
      const result = await engine.run(frame, data.options);
      const transfer = result.mask ? [result.mask.alpha.buffer] : [];
      self.postMessage({ type: "result", id: data.id, result, ms: performance.now() - start }, transfer);
    }
  } catch (error) {
    self.postMessage({ type: "error", id: data.id, error: { name: error.name, message: error.message } });
  } finally {
    frame?.close?.(); // ImageData has nothing to close
  }
};
