/**
 * Faces, 68 landmarks and expressions with face-api (its bundled TensorFlow.js).
 * Runs in a module worker or on the main thread. The backend is chosen by timing:
 * WASM (SIMD, threads when the page is cross-origin isolated) against WebGL.
 */
import * as faceapi from "/static/vendor/face-api/face-api.esm.js";
import { medianMs } from "../../lib/timing.js";

const MODELS = "/static/models/face-api";
const WASM = "/static/vendor/tfjs-wasm/";
/**
 * face-api's bundled TensorFlow.js, with its WASM backend. face-api's types name only
 * the part of it that face-api itself uses.
 * @typedef {typeof faceapi.tf & Pick<typeof import("@tensorflow/tfjs-core"), "setBackend" | "ready" | "env" | "disposeVariables">
 *   & {setWasmPaths: typeof import("@tensorflow/tfjs-backend-wasm").setWasmPaths}} BundledTf
 * @typedef {(width?: number) => faceapi.TinyFaceDetectorOptions | faceapi.SsdMobilenetv1Options} DetectorOptions
 *   the detector's options for an input of this width (the preset's without one)
 * @typedef {{x: number, y: number, width: number, height: number, score?: number,
 *   landmarks?: number[][], expression?: string}} Face a face found, normalised to 0..1 of the frame
 * @typedef {Face & {expressionScore?: number}} FoundFace
 */
const tf = /** @type {BundledTf} */ (faceapi.tf);
const PROBE = { width: 160, height: 120 };
/**
 * The weakest detection each detector reports. Measured (docs/benchmarks.md, "Face quality"):
 * above 0.4 TinyFaceDetector loses more faces than wrong boxes, and a single person is then
 * more often missed; FaceTracker (../face-tracks.js) drops the wrong boxes that come and go.
 */
const MIN_SCORE = { tiny: 0.4, ssd: 0.4 };

/** face-api looks for DOM classes; a worker has OffscreenCanvas and ImageBitmap instead. */
function useWorkerEnvironment() {
  if (typeof document !== "undefined") return;
  // The worker's classes stand in for the DOM ones face-api's types name.
  faceapi.env.setEnv(/** @type {faceapi.Environment} */ (/** @type {unknown} */ ({
    Canvas: OffscreenCanvas,
    CanvasRenderingContext2D: OffscreenCanvasRenderingContext2D,
    Image: ImageBitmap,
    ImageData,
    Video: ImageBitmap,
    createCanvasElement: () => new OffscreenCanvas(1, 1),
    createImageElement: () => {
      throw new Error("images are not decoded in the analysis worker");
    },
    createVideoElement: () => {
      throw new Error("videos are not decoded in the analysis worker");
    },
    fetch: self.fetch.bind(self),
    readFile: () => {
      throw new Error("no file system in a browser");
    },
  })));
}

export class Engine {
  /** @type {DetectorOptions | null} set by `init`, before anything else is called */
  #options = null;
  /** @type {{width: number, height: number} | undefined} the size frames should have, once `init` chose it */
  input;
  #landmarks = true;
  #expressions = true;

  /**
   * Load the models on one backend and time a small frame on it (the caller compares backends).
   * @param {{detector?: "tiny" | "ssd", inputSize?: number, minScore?: number, landmarks?: boolean, expressions?: boolean,
   *   backend?: "wasm" | "webgl"}} options `inputSize` (tiny only): 224 for webcam faces, 416–512 for group photos;
   *   `minScore`: the weakest detection reported (MIN_SCORE's by default)
   */
  async init({ detector = "tiny", inputSize = 416, minScore = MIN_SCORE[detector], landmarks = true, expressions = true, backend = "wasm" } = {}) {
    useWorkerEnvironment();
    tf.setWasmPaths(WASM);
    this.#landmarks = landmarks;
    this.#expressions = expressions;
    const net = detector === "ssd" ? faceapi.nets.ssdMobilenetv1 : faceapi.nets.tinyFaceDetector;
    this.#options = detector === "ssd" ? always(new faceapi.SsdMobilenetv1Options({ minConfidence: minScore })) : tinyOptions(inputSize, minScore);
    this.input = detector === "ssd" ? { width: 512, height: 384 } : { width: inputSize, height: Math.round((inputSize * 3) / 4) };
    if (!(await tf.setBackend(backend))) throw new Error(`the ${backend} backend is not available`);
    await tf.ready();
    await this.#load(net);
    const threads = backend === "wasm" && tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT");
    return { engine: "face-api", detector, inputSize: detector === "ssd" ? 512 : inputSize, backend: threads ? "wasm-threads" : backend, input: this.input, probeMs: await this.probe() };
  }

  /** Median ms to search a small blank frame (to compare backends). Short: software WebGL takes seconds a frame. */
  probe() {
    return medianMs(() => this.#detect(tf.zeros([PROBE.height, PROBE.width, 3], "int32")), 1);
  }

  /**
   * @param {ImageBitmap | ImageData} frame TinyFaceDetector looks at it at its own width (see FaceInputSizer)
   * @param {{landmarks?: boolean, expressions?: boolean}} [wanted] per frame: the extra nets cost
   *   more than the detector itself, so they run only while something shows their results
   */
  async run(frame, wanted = {}) {
    const options = /** @type {DetectorOptions} */ (this.#options)(frame.width);
    const faces = await this.#detect(tf.browser.fromPixels(frame), frame.width, frame.height, wanted, options);
    return { faces, inputSize: "inputSize" in options ? options.inputSize : /** @type {{width: number}} */ (this.input).width };
  }

  close() {
    tf.disposeVariables();
  }

  /** @param {faceapi.SsdMobilenetv1 | faceapi.TinyFaceDetector} net */
  async #load(net) {
    await net.loadFromUri(MODELS);
    if (this.#landmarks) await faceapi.nets.faceLandmark68TinyNet.loadFromUri(MODELS);
    if (this.#expressions) await faceapi.nets.faceExpressionNet.loadFromUri(MODELS);
  }

  /**
   * Detect on a tensor (disposed here); boxes and points normalised to 0..1.
   * @param {faceapi.tf.Tensor3D} tensor @param {{landmarks?: boolean, expressions?: boolean}} [wanted]
   * @returns {Promise<FoundFace[]>}
   */
  async #detect(tensor, width = tensor.shape[1], height = tensor.shape[0], wanted = {}, options = /** @type {DetectorOptions} */ (this.#options)()) {
    const landmarks = this.#landmarks && (wanted.landmarks ?? true);
    const expressions = this.#expressions && (wanted.expressions ?? true);
    try {
      /** @type {any} each step of face-api's task is a class of its own; what it finds is read in describeFace */
      let task = faceapi.detectAllFaces(tensor, options);
      if (landmarks) task = task.withFaceLandmarks(true);
      if (expressions) task = task.withFaceExpressions();
      const found = await task;
      return found.map((/** @type {any} */ item) => describeFace(item, width, height));
    } finally {
      tensor.dispose();
    }
  }
}

/** @param {faceapi.SsdMobilenetv1Options} options @returns {DetectorOptions} */
function always(options) {
  return () => options;
}

/**
 * TinyFaceDetector's options per input width (a multiple of 32), `preset` when none is given.
 * @param {number} preset @param {number} minScore @returns {DetectorOptions}
 */
function tinyOptions(preset, minScore) {
  /** @type {Map<number, faceapi.TinyFaceDetectorOptions>} */
  const made = new Map();
  return (width = preset) => {
    const inputSize = Math.max(32, Math.ceil(width / 32) * 32);
    if (!made.has(inputSize)) made.set(inputSize, new faceapi.TinyFaceDetectorOptions({ inputSize, scoreThreshold: minScore }));
    return /** @type {faceapi.TinyFaceDetectorOptions} */ (made.get(inputSize));
  };
}

/**
 * @param {{detection?: faceapi.FaceDetection, box?: faceapi.Box, score?: number, landmarks?: faceapi.FaceLandmarks68,
 *   expressions?: faceapi.FaceExpressions}} item a FaceDetection, or its detection with what was asked for besides
 * @param {number} width @param {number} height
 */
function describeFace(item, width, height) {
  const detection = /** @type {faceapi.FaceDetection} */ (item.detection ?? item);
  const box = detection.box;
  /** @type {FoundFace} */
  const face = {
    x: box.x / width,
    y: box.y / height,
    width: box.width / width,
    height: box.height / height,
    score: Math.round(detection.score * 1000) / 1000,
  };
  if (item.landmarks) face.landmarks = item.landmarks.positions.map((point) => [point.x / width, point.y / height]);
  if (item.expressions) {
    const [expression, probability] = Object.entries(item.expressions).sort((a, b) => b[1] - a[1])[0];
    face.expression = expression;
    face.expressionScore = Math.round(probability * 1000) / 1000;
  }
  return face;
}
