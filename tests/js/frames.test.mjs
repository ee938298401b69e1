import assert from "node:assert/strict";
import { test } from "node:test";

import { fitFrame } from "/static/js/analysis/frames.js";

// Browser classes Node does not have, as far as frames.js uses them.
globalThis.ImageData = class ImageData {
  constructor(width, height) {
    Object.assign(this, { width, height, data: new Uint8ClampedArray(width * height * 4) });
  }
};
globalThis.createImageBitmap = async (source, options) => ({ kind: "bitmap", source, options });

const MATRICES = { bt709: [0.2126, 0.0722], smpte170m: [0.299, 0.114] };

/** RGB → Y'CbCr as a camera's encoder computes it (the standard formulas, written out on their own here). */
function encode([r, g, b], { matrix, fullRange }) {
  const [kr, kb] = MATRICES[matrix];
  const y = kr * r + (1 - kr - kb) * g + kb * b;
  const cb = (b - y) / (2 * (1 - kb));
  const cr = (r - y) / (2 * (1 - kr));
  const byte = (value) => Math.max(0, Math.min(255, Math.round(value)));
  return fullRange ? [byte(y), byte(128 + cb), byte(128 + cr)] : [byte(16 + (y * 219) / 255), byte(128 + (cb * 224) / 255), byte(128 + (cr * 224) / 255)];
}

/**
 * A decoded camera frame as WebCodecs hands it over: planar YUV (I420, or NV12 with U and V
 * interleaved), `codedWidth` × `codedHeight`, of which `visible` is the picture.
 * `colour(x, y)` is the RGB of each pixel.
 */
function yuvFrame({ format, colorSpace, codedWidth, codedHeight, visible = { x: 0, y: 0, width: codedWidth, height: codedHeight }, colour }) {
  const lumaSize = codedWidth * codedHeight;
  const chromaWidth = codedWidth / 2;
  const bytes = new Uint8Array(lumaSize * 1.5);
  const layout =
    format === "I420"
      ? [{ offset: 0, stride: codedWidth }, { offset: lumaSize, stride: chromaWidth }, { offset: lumaSize * 1.25, stride: chromaWidth }]
      : [{ offset: 0, stride: codedWidth }, { offset: lumaSize, stride: codedWidth }];
  for (let y = 0; y < codedHeight; y += 1) {
    for (let x = 0; x < codedWidth; x += 1) {
      const [luma, u, v] = encode(colour(x, y), colorSpace);
      bytes[y * codedWidth + x] = luma;
      if (x % 2 || y % 2) continue; // one chroma sample for each 2×2 block
      if (format === "I420") {
        bytes[layout[1].offset + (y / 2) * chromaWidth + x / 2] = u;
        bytes[layout[2].offset + (y / 2) * chromaWidth + x / 2] = v;
      } else {
        bytes[layout[1].offset + (y / 2) * codedWidth + x] = u;
        bytes[layout[1].offset + (y / 2) * codedWidth + x + 1] = v;
      }
    }
  }
  const frame = {
    format,
    colorSpace,
    displayWidth: visible.width,
    displayHeight: visible.height,
    visibleRect: visible,
    closed: false,
    allocationSize: () => visible.width * visible.height * 1.5,
    // As Chromium does: the visible part alone, each plane's rows packed.
    async copyTo(destination) {
      const { x: left, y: top, width, height } = visible;
      let offset = 0;
      return layout.map(({ offset: from, stride }, index) => {
        const luma = index === 0;
        const rows = luma ? height : height / 2;
        const rowBytes = luma || format === "NV12" ? width : width / 2; // NV12's one chroma row holds U and V of width / 2 pixels
        const start = luma || format === "NV12" ? left : left / 2;
        for (let row = 0; row < rows; row += 1) {
          const source = from + ((luma ? top : top / 2) + row) * stride + start;
          destination.set(bytes.subarray(source, source + rowBytes), offset + row * rowBytes);
        }
        const plane = { offset, stride: rowBytes };
        offset += rowBytes * rows;
        return plane;
      });
    },
    close() {
      frame.closed = true;
      frame.format = null;
    },
  };
  return frame;
}

/** The RGB of pixel (x, y) of ImageData. */
const pixel = (image, x, y) => [...image.data.slice((y * image.width + x) * 4, (y * image.width + x) * 4 + 3)];

function assertColour(actual, expected, what) {
  assert.ok(actual.every((value, channel) => Math.abs(value - expected[channel]) <= 3), `${what}: ${actual} is not ${expected}`);
}

const COLOURS = { red: [255, 0, 0], green: [0, 255, 0], blue: [0, 0, 255], skin: [224, 172, 105], grey: [128, 128, 128], white: [255, 255, 255], black: [0, 0, 0] };
const SPACES = [
  { matrix: "smpte170m", fullRange: false }, // BT.601, what most webcams send
  { matrix: "bt709", fullRange: false },
  { matrix: "bt709", fullRange: true },
];

for (const format of ["I420", "NV12"]) {
  for (const colorSpace of SPACES) {
    test(`${format}, ${colorSpace.matrix} ${colorSpace.fullRange ? "full" : "studio"} range: every colour reaches the model as the camera saw it`, async () => {
      for (const [name, rgb] of Object.entries(COLOURS)) {
        const frame = yuvFrame({ format, colorSpace, codedWidth: 32, codedHeight: 16, colour: () => rgb });
        const image = await fitFrame(frame, { width: 8, height: 4 });
        assert.deepEqual([image.width, image.height], [8, 4]);
        for (let y = 0; y < 4; y += 1) for (let x = 0; x < 8; x += 1) assertColour(pixel(image, x, y), rgb, `${name} at ${x},${y}`);
        assert.ok(image.data.every((value, index) => index % 4 !== 3 || value === 255), "opaque");
      }
    });
  }
}

test("a frame is scaled with its left and right, top and bottom where they were (and U not swapped for V)", async () => {
  for (const format of ["I420", "NV12"]) {
    // Red on the left half, blue on the right; a green band along the bottom quarter.
    const colour = (x, y) => (y >= 48 ? COLOURS.green : x < 32 ? COLOURS.red : COLOURS.blue);
    const frame = yuvFrame({ format, colorSpace: SPACES[0], codedWidth: 64, codedHeight: 64, colour });
    const image = await fitFrame(frame, { width: 16, height: 16 });
    for (let y = 0; y < 16; y += 1) {
      for (let x = 0; x < 16; x += 1) {
        const expected = y >= 12 ? COLOURS.green : x < 8 ? COLOURS.red : COLOURS.blue;
        assertColour(pixel(image, x, y), expected, `${format} at ${x},${y}`);
      }
    }
  }
});

test("only the visible part of a frame reaches the model, not the padding around it", async () => {
  const visible = { x: 8, y: 8, width: 64, height: 32 };
  const inside = (x, y) => x >= visible.x && x < visible.x + visible.width && y >= visible.y && y < visible.y + visible.height;
  const frame = yuvFrame({ format: "I420", colorSpace: SPACES[0], codedWidth: 80, codedHeight: 48, visible, colour: (x, y) => (inside(x, y) ? COLOURS.skin : [255, 0, 255]) });
  const image = await fitFrame(frame, { width: 16, height: 8 });
  for (let y = 0; y < 8; y += 1) for (let x = 0; x < 16; x += 1) assertColour(pixel(image, x, y), COLOURS.skin, `at ${x},${y}`);
});

test("a frame's memory goes back at once, whatever its format", async () => {
  const yuv = yuvFrame({ format: "NV12", colorSpace: SPACES[0], codedWidth: 16, codedHeight: 16, colour: () => COLOURS.grey });
  await fitFrame(yuv, { width: 8, height: 8 });
  assert.equal(yuv.closed, true);
  // Other formats are scaled by the browser.
  const rgb = { format: "RGBX", displayWidth: 640, closed: false, close: () => (rgb.closed = true) };
  const scaled = await fitFrame(rgb, { width: 256, height: 144 });
  assert.equal(rgb.closed, true);
  assert.equal(scaled.source, rgb);
  assert.deepEqual([scaled.options.resizeWidth, scaled.options.resizeHeight], [256, 144]);
});

test("an ImageBitmap made by the page (no VideoFrame there) passes through as it is", async () => {
  const bitmap = { width: 256, height: 144 };
  assert.equal(await fitFrame(bitmap, { width: 256, height: 144 }), bitmap);
});
