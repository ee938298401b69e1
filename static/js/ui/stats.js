/**
 * The stats overlay: per remote stream and model, where its results come from
 * (its sender, or this page's engine and backend), inference time and rate; and
 * what this page shares of its own camera.
 *
 * @typedef {import("../analysis/analysis.js").ModelInfo} ModelInfo
 * @typedef {ReturnType<import("../analysis/analysis.js").Analysis["describe"]>} StreamAnalysis
 */
export class StatsOverlay {
  #element;

  /** @param {HTMLElement} element */
  constructor(element) {
    this.#element = element;
  }

  get visible() {
    return !this.#element.hidden;
  }

  /** @param {boolean} visible */
  setVisible(visible) {
    this.#element.hidden = !visible;
  }

  /**
   * @param {{fps: number, longTasks: number[], delays: Record<string, number>, engines: import("../analysis/analysis.js").Engines,
   *   streams: Array<{name: string, analysis: StreamAnalysis}>, sharing: ReturnType<import("../sharing/own-share.js").OwnShare["describe"]>}} report
   */
  render({ fps, longTasks, delays, engines, streams, sharing }) {
    if (!this.visible) return;
    const table = document.createElement("table");
    const row = (/** @type {string[]} */ cells, header = false) => {
      const tr = table.insertRow();
      for (const cell of cells) {
        const td = document.createElement(header ? "th" : "td");
        td.textContent = cell;
        tr.append(td);
      }
    };
    row(["stream", "model", "engine", "backend", "ms", "/s"], true);
    for (const { name, analysis } of streams) {
      for (const model of /** @type {const} */ (["mask", "faces"])) {
        const engine = engines[model];
        const shared = analysis?.source === "sender";
        row([
          name,
          model,
          (shared ? "shared by the sender" : engine ? `${engine.engine}${describeInput(model, engine, analysis)} (${engine.where})` : "starting…") +
            (analysis?.dropped ? " · sender's analysis dropped: damaged frames" : ""),
          shared ? "" : (analysis?.backend[model] ?? ""),
          shared ? "" : (analysis?.inferenceMs[model]?.toFixed(0) ?? "–"),
          analysis?.enabled ? (analysis?.hz[model]?.toFixed(1) ?? "–") : "off",
        ]);
      }
    }
    const summary = document.createElement("p");
    const worst = longTasks.length ? Math.max(...longTasks.slice(-50)) : 0;
    summary.textContent = `page ${fps} fps · longest recent main-thread task ${worst} ms · pause after each mask ${delays.mask ?? 0} ms, faces ${delays.faces ?? 0} ms`;
    const choices = document.createElement("p");
    choices.textContent = /** @type {const} */ (["mask", "faces"]).map((model) => describeChoice(model, engines[model])).join(" · ");
    const shares = document.createElement("p");
    shares.textContent = describeSharing(sharing);
    this.#element.replaceChildren(summary, table, choices, shares);
  }
}

/**
 * " 128 of 224 px": the face detector's input for this stream's last result, and the most it may take.
 * @param {string} model @param {ModelInfo} engine @param {StreamAnalysis} analysis
 */
function describeInput(model, engine, analysis) {
  if (model !== "faces" || !engine.inputSize) return "";
  const used = analysis?.faceInput;
  return used && used !== engine.inputSize ? ` ${used} of ${engine.inputSize} px` : ` ${engine.inputSize} px`;
}

/** "faces: wasm-threads (measured here: wasm-threads 45 ms, webgl 700 ms)", for one model. @param {string} model @param {ModelInfo | undefined} engine */
function describeChoice(model, engine) {
  if (!engine) return `${model}: starting…`;
  const how = { measuring: "measuring the others", measured: "measured here", remembered: `measured here on ${engine.measuredAt?.slice(0, 10)}` }[engine.choice];
  const tried = Object.entries(engine.tried ?? {})
    .map(([backend, ms]) => `${backend} ${typeof ms === "number" ? `${ms} ms` : ms}`)
    .join(", ");
  const detail = [how, tried].filter(Boolean).join(": ");
  return detail ? `${model}: ${engine.backend} (${detail})` : `${model}: ${engine.backend}`;
}

/**
 * "You share: mask 9.8/s, faces 7.1/s with 2 people · 2.9 kB/s": what this page analyses of its own camera for others.
 * @param {ReturnType<import("../sharing/own-share.js").OwnShare["describe"]>} sharing
 */
function describeSharing(sharing) {
  if (!sharing.on) return "You share no analysis (sharing is off here, or this browser cannot).";
  if (!sharing.active) return "You share no analysis: nobody needs it now.";
  const what = /** @type {const} */ (["mask", "faces", "landmarks", "expressions"]).filter((key) => sharing.shares[key]);
  const rates = `mask ${sharing.hz.mask?.toFixed(1) ?? "–"}/s, faces ${sharing.hz.faces?.toFixed(1) ?? "–"}/s`;
  return `You share ${what.join(", ")} (${rates}) with ${sharing.peersWanting} · ${(sharing.bytesPerSecond / 1000).toFixed(1)} kB/s`;
}
