/**
 * Simulcast on Janus: every page sends its camera in three layers and each viewer takes, per
 * tile, the smallest layer that fills it (a small tile the low one, a pinned or spotlit tile
 * the high one), switching as the tile changes size.
 */

/** The layers a publication sends, lowest first (VideoRoom's substreams 0, 1, 2). */
export const SIMULCAST_ENCODINGS = /** @type {const} */ ([
  { rid: "l", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "m", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
]);

/** The camera's height when nothing else is known: what call/media.js asks for. */
export const CAMERA_HEIGHT = 480;
/** A layer this much smaller than the tile still looks sharp enough there (video is soft anyway). */
const SHARP_ENOUGH = 0.75;

/**
 * The substream (0 low, 1 mid, 2 high) for a tile `height` device pixels high: the lowest
 * whose picture is at least SHARP_ENOUGH of it; the highest when none is.
 * @param {number} height device pixels; 0 (not shown) takes the lowest
 * @param {number} [sourceHeight] the sender's full picture
 */
export function layerFor(height, sourceHeight = CAMERA_HEIGHT) {
  const index = SIMULCAST_ENCODINGS.findIndex((encoding) => sourceHeight / encoding.scaleResolutionDownBy >= SHARP_ENOUGH * height);
  return index === -1 ? SIMULCAST_ENCODINGS.length - 1 : index;
}
