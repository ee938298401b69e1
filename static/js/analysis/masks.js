/**
 * A person mask as it travels from a worker to the page: one byte of
 * confidence (0–255) per pixel at the model's resolution, plus a summary.
 *
 * @typedef {{width: number, height: number, alpha: Uint8ClampedArray, coverage: number,
 *   box: {x: number, y: number, width: number, height: number} | null,
 *   centroid: {x: number, y: number} | null}} PersonMask
 */

/**
 * @param {Float32Array} confidence person probability per pixel, row by row
 * @param {number} width @param {number} height
 * @returns {PersonMask} coordinates normalised to 0..1 of the frame
 */
export function summariseMask(confidence, width, height) {
  const alpha = new Uint8ClampedArray(width * height);
  let count = 0, sumX = 0, sumY = 0;
  let left = width, top = height, right = -1, bottom = -1;
  for (let y = 0, i = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1, i += 1) {
      const value = confidence[i];
      alpha[i] = value * 255;
      if (value > 0.5) {
        count += 1;
        sumX += x;
        sumY += y;
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        if (y > bottom) bottom = y;
      }
    }
  }
  return {
    width,
    height,
    alpha,
    coverage: count / (width * height),
    box: count ? { x: left / width, y: top / height, width: (right - left + 1) / width, height: (bottom - top + 1) / height } : null,
    centroid: count ? { x: sumX / count / width, y: sumY / count / height } : null,
  };
}
