import { STICKERS } from "../draw/face-drawing.js";
import { EffectsMenu } from "./effects-menu.js";
import { TileEffects } from "./tile-effects.js";

/**
 * Effects for every remote tile: adds a stream to the analysis when its tile
 * gets video, gives each tile its effects menu and updates a tile's effects
 * whenever a new result for it arrives (drawing never waits for an inference;
 * between results the browser keeps showing the last ones). Starting the
 * engines is the analysis's own (Analysis `run`, called by the wiring).
 */
export class RoomEffects {
  #analysis;
  /** @type {Map<string, {effects: TileEffects, menu: EffectsMenu}>} */
  #tiles = new Map();

  /**
   * @param {import("../analysis/analysis.js").Analysis} analysis
   */
  constructor(analysis) {
    this.#analysis = analysis;
    analysis.on("result", (id, model) => {
      const latest = analysis.latest(id);
      if (latest) this.#tiles.get(id)?.effects.show(latest, model);
    });
  }

  /**
   * A remote tile has video: add it to the analysis and offer its menu.
   * @param {string} id @param {import("./tiles.js").Tile} tile @returns {boolean} false if it was attached already
   */
  attach(id, tile) {
    if (this.#tiles.has(id)) return false;
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
    return true;
  }

  /** @param {string} id */
  detach(id) {
    this.#tiles.delete(id);
    this.#analysis.removeStream(id);
  }
}
