/**
 * Frames on their way to an engine. Where the browser has `VideoFrame`, the page
 * only wraps the video's current frame (a handle to the decoded picture, no
 * pixels copied: ~0.04 ms here against 2–4 ms for `createImageBitmap` of the
 * video, which copies and scales on the main thread) and the engine's side
 * scales it. Elsewhere the page makes the scaled ImageBitmap itself.
 */

/**
 * The size a model wants a video's frames in.
 * @param {{videoWidth: number, videoHeight: number}} video @param {{width: number, height?: number}} input
 * @param {boolean} keepAspect fit the width and keep the picture's proportions (also for an input without height)
 */
export function inputSize(video, input, keepAspect) {
  const height = keepAspect || input.height === undefined ? Math.round((input.width * video.videoHeight) / video.videoWidth) : input.height;
  return { width: input.width, height };
}

/**
 * The video's current frame for a model: a VideoFrame to be scaled by `fitFrame`
 * where the engine runs, or an ImageBitmap already at `size`.
 * @param {HTMLVideoElement} video @param {{width: number, height: number}} size
 * @returns {Promise<VideoFrame | ImageBitmap>}
 */
export async function grab(video, size) {
  if (typeof VideoFrame !== "undefined") return new VideoFrame(video);
  return createImageBitmap(video, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: "low" });
}

/**
 * A frame at `size`, ready for an engine: a VideoFrame is scaled into pixels
 * and closed; an ImageBitmap passes through.
 *
 * A decoded video frame is usually planar YUV (I420, or NV12). Reading it with
 * `copyTo` and computing only the pixels the model takes costs ~1–1.5 ms here
 * (640×480 to 256×144 or 160×120), against ~3.5 ms for `createImageBitmap`,
 * which converts the whole frame before scaling it; other formats take that way.
 * @param {VideoFrame | ImageBitmap} frame @param {{width: number, height: number}} size
 * @returns {Promise<ImageBitmap | ImageData>}
 */
export async function fitFrame(frame, size) {
  if (!("displayWidth" in frame)) return frame;
  try {
    if (frame.format === "I420" || frame.format === "NV12") return await sampleYuv(frame, size);
    return await createImageBitmap(frame, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: "low" });
  } finally {
    frame.close();
  }
}

/** @type {Uint8Array} one buffer for the planes of every frame of this thread */
let planes = new Uint8Array(0);

/**
 * RGBA at `size` from a planar YUV frame: each output pixel takes the mean of a
 * 2×2 block of luma around its centre and the chroma there (enough for a model
 * that sees the frame at a half or less of its size).
 * @param {VideoFrame} frame @param {{width: number, height: number}} size
 */
async function sampleYuv(frame, { width, height }) {
  if (planes.length < frame.allocationSize()) planes = new Uint8Array(frame.allocationSize());
  const [luma, u, v] = await frame.copyTo(planes);
  const interleaved = frame.format === "NV12"; // U and V alternate in one plane
  const toRgb = yuvToRgb(frame.colorSpace);
  // copyTo packs the visible part alone: its first row and column are where the layouts say.
  const { width: shownWidth, height: shownHeight } = /** @type {DOMRectReadOnly} */ (frame.visibleRect); // null only once closed
  const stepX = shownWidth / width, stepY = shownHeight / height;
  const maxX = shownWidth - 2, maxY = shownHeight - 2;
  const image = new ImageData(width, height);
  const out = image.data;
  for (let row = 0, o = 0; row < height; row += 1) {
    const y = Math.min(maxY, Math.floor((row + 0.5) * stepY));
    const lumaRow = luma.offset + y * luma.stride;
    const uRow = u.offset + (y >> 1) * u.stride;
    const vRow = interleaved ? uRow + 1 : v.offset + (y >> 1) * v.stride;
    for (let column = 0; column < width; column += 1, o += 4) {
      const x = Math.min(maxX, Math.floor((column + 0.5) * stepX));
      const at = lumaRow + x;
      const brightness = (planes[at] + planes[at + 1] + planes[at + luma.stride] + planes[at + luma.stride + 1]) / 4;
      const chroma = interleaved ? (x >> 1) * 2 : x >> 1;
      toRgb(brightness, planes[uRow + chroma], planes[vRow + chroma], out, o);
    }
  }
  return image;
}

/**
 * YUV → RGB for a frame's colour space: BT.709 or BT.601 weights, studio or full range.
 * @param {VideoColorSpace} space
 * @returns {(luma: number, u: number, v: number, out: Uint8ClampedArray, o: number) => void} writes one RGBA pixel at `out[o]`
 */
function yuvToRgb(space) {
  const [kr, kb] = space?.matrix === "bt709" ? [0.2126, 0.0722] : [0.299, 0.114];
  const kg = 1 - kr - kb;
  const full = space?.fullRange === true;
  const yScale = full ? 1 : 255 / 219, cScale = full ? 1 : 255 / 224, yOffset = full ? 0 : 16;
  const rv = cScale * 2 * (1 - kr), bu = cScale * 2 * (1 - kb);
  const gu = (cScale * 2 * kb * (1 - kb)) / kg, gv = (cScale * 2 * kr * (1 - kr)) / kg;
  return (luma, u, v, out, o) => {
    const y = yScale * (luma - yOffset);
    u -= 128;
    v -= 128;
    out[o] = y + rv * v; // the array clamps to 0–255
    out[o + 1] = y - gu * u - gv * v;
    out[o + 2] = y + bu * u;
    out[o + 3] = 255;
  };
}
