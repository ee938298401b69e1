/**
 * The analysis worker: hosts one engine (selfie, faces or bodypix) and answers
 * `init` and `run` messages with a result or an error, never both. Frames come
 * in as transferred ImageBitmaps, already downscaled to the engine's input size.
 */
const ENGINES = {
  selfie: () => import("./engines/selfie.js"),
  faces: () => import("./engines/faces.js"),
  bodypix: () => import("./engines/bodypix.js"),
};

let engine = null;

self.onmessage = async ({ data }) => {
  try {
    if (data.type === "init") {
      engine = new (await ENGINES[data.engine]()).Engine();
      self.postMessage({ type: "ready", id: data.id, info: await engine.init(data.options) });
    } else if (data.type === "run") {
      const start = performance.now();
      const result = await engine.run(data.frame, data.options);
      data.frame.close();
      const transfer = result.mask ? [result.mask.alpha.buffer] : [];
      self.postMessage({ type: "result", id: data.id, result, ms: performance.now() - start }, transfer);
    }
  } catch (error) {
    data.frame?.close();
    self.postMessage({ type: "error", id: data.id, error: { name: error.name, message: error.message } });
  }
};
