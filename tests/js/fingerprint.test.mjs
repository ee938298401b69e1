import assert from "node:assert/strict";
import { test } from "node:test";

import { FINGERPRINT, fingerprintDistance, lumaFingerprint } from "/static/js/sharing/fingerprint.js";

/**
 * A luma plane as a decoder lays it out: `offset` bytes before it, rows `stride` apart, with
 * padding; inside `rect`, each of the 16×9 blocks is `value(column, row)`, outside 0.
 */
function plane({ width, height, stride, offset, left = 0, top = 0 }, value) {
  const bytes = new Uint8Array(offset + (top + height) * stride);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const block = value(Math.floor((x * FINGERPRINT.width) / width), Math.floor((y * FINGERPRINT.height) / height));
      bytes[offset + (top + y) * stride + left + x] = block;
    }
  }
  return bytes;
}

const gradient = (column, row) => 16 + column * 10 + row * 3; // 16–193: inside the studio range

test("a studio-range luma plane gives each block's mean stretched to full range", () => {
  const layout = { width: 64, height: 36, stride: 80, offset: 12 };
  const print = lumaFingerprint(plane(layout, gradient), { offset: 12, stride: 80 }, { x: 0, y: 0, width: 64, height: 36 }, false);
  assert.deepEqual([print.width, print.height], [16, 9]);
  for (let row = 0; row < 9; row += 1) {
    for (let column = 0; column < 16; column += 1) {
      assert.equal(print.values[row * 16 + column], Math.round(((gradient(column, row) - 16) * 255) / 219), `block ${column},${row}`);
    }
  }
});

test("only the visible part counts, and full-range values are kept as they are", () => {
  const layout = { width: 96, height: 54, stride: 128, offset: 0, left: 16, top: 6 };
  const bytes = plane(layout, gradient);
  const print = lumaFingerprint(bytes, { offset: 0, stride: 128 }, { x: 16, y: 6, width: 96, height: 54 }, true);
  assert.deepEqual([...print.values], Array.from({ length: 144 }, (_, block) => gradient(block % 16, Math.floor(block / 16))));
});

test("the same picture in two sizes gives nearly the same fingerprint; another picture does not", () => {
  const small = lumaFingerprint(plane({ width: 160, height: 90, stride: 160, offset: 0 }, gradient), { offset: 0, stride: 160 },
    { x: 0, y: 0, width: 160, height: 90 }, false);
  const large = lumaFingerprint(plane({ width: 640, height: 360, stride: 640, offset: 0 }, gradient), { offset: 0, stride: 640 },
    { x: 0, y: 0, width: 640, height: 360 }, false);
  const other = lumaFingerprint(plane({ width: 160, height: 90, stride: 160, offset: 0 }, (column, row) => gradient(15 - column, row)),
    { offset: 0, stride: 160 }, { x: 0, y: 0, width: 160, height: 90 }, false);
  assert.ok(fingerprintDistance(small, large) < 0.6, "the very frame");
  assert.ok(fingerprintDistance(small, other) > 20);
});

test("values outside the studio range are clamped to 0–255", () => {
  const print = lumaFingerprint(plane({ width: 32, height: 18, stride: 32, offset: 0 }, (column) => (column < 8 ? 0 : 255)),
    { offset: 0, stride: 32 }, { x: 0, y: 0, width: 32, height: 18 }, false);
  assert.equal(print.values[0], 0);
  assert.equal(print.values[15], 255);
});
