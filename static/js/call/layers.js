/**
 * Simulcast on Janus: every page sends its camera in up to three layers and each viewer takes,
 * per tile, the layer that fills it (a small tile a low one, a pinned or spotlit tile the
 * highest), switching as the tile changes size.
 *
 * Chromium sends no more layers than a picture's size warrants (WebRTC's simulcast table: three
 * from 960×540, two from 480×270, one below) and drops the highest it was given beyond that.
 * So the layers are fitted to the picture: the highest layer sent is always the full picture
 * and each below it is half as high; the layers not sent are inactive. A 640×480 camera sends
 * 240 and 480 lines, a 1280×720 screen 180, 360 and 720, a 320×240 camera just itself.
 */

/** The three RTP streams a publication has (VideoRoom's substreams 0, 1, 2), lowest first. */
export const RIDS = /** @type {const} */ (["l", "m", "h"]);

/** Each substream a tile of up to this many device pixels high needs (the last: any larger). */
const TILE_HEIGHTS = [320, 640];

/**
 * The encodings that send a `width`×`height` picture in as many layers as Chromium sends for
 * it, the highest the full picture, each below half as high; the rest inactive.
 * @param {number} width @param {number} height the picture sent (0 × 0: not known yet, taken as 640×480)
 * @returns {RTCRtpEncodingParameters[]}
 */
export function simulcastEncodings(width, height) {
  const pixels = (width || 640) * (height || 480);
  const count = pixels >= 960 * 540 ? 3 : pixels >= 480 * 270 ? 2 : 1;
  return RIDS.map((rid, index) => {
    const active = index < count;
    const scaleResolutionDownBy = active ? 2 ** (count - 1 - index) : 1;
    return { rid, active, scaleResolutionDownBy, maxBitrate: layerBitrate(pixels / scaleResolutionDownBy ** 2) };
  });
}

/** What a layer of this many pixels may send (bits a second): about WebRTC's own default for its size. @param {number} pixels */
function layerBitrate(pixels) {
  if (pixels <= 160 * 120) return 150_000;
  if (pixels <= 320 * 240) return 500_000;
  if (pixels <= 640 * 480) return 1_200_000;
  return 2_500_000;
}

/**
 * The substream (0 low, 1 middle, 2 high) for a tile `height` device pixels high. A sender
 * with fewer layers has Janus forward the highest it has below the one asked for.
 * @param {number} height device pixels; 0 (not shown) takes the lowest
 */
export function layerFor(height) {
  const index = TILE_HEIGHTS.findIndex((most) => height <= most);
  return index === -1 ? TILE_HEIGHTS.length : index;
}
