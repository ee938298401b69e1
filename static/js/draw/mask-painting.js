/**
 * A person mask (analysis/masks.js) painted into a canvas: the cut-out of the tiles and of the scene.
 * @typedef {import("../analysis/masks.js").PersonMask} PersonMask
 */

/**
 * Paint a mask's confidence into the alpha channel of a canvas of its size.
 * @param {PersonMask} mask @param {OffscreenCanvas | HTMLCanvasElement} canvas
 */
export function paintMask(mask, canvas) {
  if (canvas.width !== mask.width || canvas.height !== mask.height) {
    canvas.width = mask.width;
    canvas.height = mask.height;
  }
  const pixels = new ImageData(mask.width, mask.height);
  for (let i = 0; i < mask.alpha.length; i += 1) pixels.data[i * 4 + 3] = mask.alpha[i];
  /** @type {CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D} */ (canvas.getContext("2d")).putImageData(pixels, 0, 0);
}
