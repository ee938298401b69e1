import { Emitter } from "../lib/emitter.js";
import { STICKERS } from "../draw/face-drawing.js";
import { asFailure } from "../lib/failure.js";
import { EffectsMenu } from "./effects-menu.js";
import { TileEffects } from "./tile-effects.js";

/**
 * Analysis and effects for every remote tile: starts analysing a stream when
 * its tile gets video, gives each tile its effects menu and updates a tile's
 * effects whenever a new result for it arrives (drawing never waits for an
 * inference; between results the browser keeps showing the last ones).
 *
 * Events: `error(failure)`.
 */
/** @extends {Emitter<{error: [failure: import("../lib/failure.js").Failure]}>} */
export class RoomEffects extends Emitter {
  #analysis;
  #choice;
  /** @type {Map<string, {effects: TileEffects, menu: EffectsMenu}>} */
  #tiles = new Map();

  /**
   * @param {import("../analysis/analysis.js").Analysis} analysis
   * @param {{segmentation?: "selfie" | "bodypix", faces?: string, workers?: boolean}} choice engines to start
   */
  constructor(analysis, choice) {
    super();
    this.#analysis = analysis;
    this.#choice = choice;
    analysis.on("result", (id, model) => {
      const latest = analysis.latest(id);
      if (latest) this.#tiles.get(id)?.effects.show(latest, model);
    });
  }

  /** A remote tile has video: analyse it and offer its menu. @param {string} id @param {import("./tiles.js").Tile} tile */
  attach(id, tile) {
    if (this.#tiles.has(id)) return;
    const effects = new TileEffects(tile);
    const menu = new EffectsMenu();
    menu.on("change", (settings) => {
      effects.update(settings);
      this.#analysis.setStreamEnabled(id, settings.analyse);
      this.#analysis.setFaceDetail(id, {
        landmarks: settings.landmarks || STICKERS[settings.sticker]?.anchor === "eyes",
        expressions: settings.expression,
      });
    });
    tile.setMenu(menu.element);
    this.#tiles.set(id, { effects, menu });
    this.#analysis.addStream(id, tile.video);
    this.#analysis.setFaceDetail(id, { landmarks: false, expressions: false });
    this.start();
  }

  /** Start the analysis engines (once; later calls do nothing). */
  start() {
    this.#analysis.start(this.#choice).catch((error) => this.emit("error", asFailure(error, "analysis", "Video analysis could not start")));
  }

  /** @param {string} id */
  detach(id) {
    this.#tiles.delete(id);
    this.#analysis.removeStream(id);
  }
}
