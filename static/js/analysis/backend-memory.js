/**
 * Which backend each analysis engine runs on, as measured on this device:
 * kept in localStorage so the next visit starts on the winner at once instead
 * of timing every backend again (trying a GPU path on a machine without a GPU
 * takes seconds). The record belongs to one device: a new browser version, a
 * different number of cores or another graphics renderer starts it afresh.
 *
 * @typedef {{candidate: Record<string, unknown>, backend: string, tried: Record<string, number | string>, measuredAt: string}} BackendChoice
 *   `candidate`: the engine options that select the backend; `tried`: ms a frame per backend timed
 */

const STORAGE_KEY = "ensemble.backends.v1";

export class BackendMemory {
  #storage;
  #device;

  /** @param {{storage?: Storage | null, renderer?: string}} [options] */
  constructor({ storage = safeLocalStorage(), renderer = graphicsRenderer() } = {}) {
    this.#storage = storage;
    this.renderer = renderer;
    this.#device = `${navigator.userAgent} | ${navigator.hardwareConcurrency} cores | ${renderer}`;
  }

  /**
   * The name of the software rasterizer standing in for a GPU here (SwiftShader, llvmpipe,
   * Microsoft's basic renderer), else null. With one, GPU backends run 7–12× slower than
   * the CPU ones (docs/benchmarks.md), and merely timing them keeps every core busy for 15–20 s.
   */
  get softwareRenderer() {
    return this.renderer.match(SOFTWARE_RENDERERS)?.[0] ?? null;
  }

  /** @param {string} key engine and its options @returns {BackendChoice | null} */
  recall(key) {
    return this.#read()[key] ?? null;
  }

  /** @param {string} key @param {BackendChoice | null} choice null: forget it, measure again */
  remember(key, choice) {
    this.#write({ ...this.#read(), [key]: choice });
  }

  #read() {
    try {
      const saved = JSON.parse(this.#storage?.getItem(STORAGE_KEY) ?? "null");
      return saved?.device === this.#device && saved.choices && typeof saved.choices === "object" ? saved.choices : {};
    } catch {
      return {}; // unreadable or refused: measure again
    }
  }

  /** @param {Record<string, BackendChoice | null>} choices */
  #write(choices) {
    try {
      this.#storage?.setItem(STORAGE_KEY, JSON.stringify({ device: this.#device, choices }));
    } catch {
      // storage full or refused (private windows): the next visit measures again
    }
  }
}

const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|basic render driver|software/i;

/** The graphics renderer WebGL reports ("no WebGL" without one). */
export function graphicsRenderer() {
  try {
    const gl = document.createElement("canvas").getContext("webgl");
    if (!gl) return "no WebGL";
    const debug = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return renderer;
  } catch {
    return "no WebGL"; // no canvas here (a worker) or WebGL refused
  }
}

function safeLocalStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage blocked for this page
  }
}
