import assert from "node:assert/strict";
import { test } from "node:test";

import { FINGERPRINT, fingerprintDistance, lumaFingerprint } from "/static/js/sharing/fingerprint.js";

/**
 * A luma plane as `VideoFrame.copyTo` lays it out: `offset` bytes before it, rows `stride`
 * apart (the bytes past `width` are padding, 255 here); each of the 16×9 blocks is `value(column, row)`.
 */
function plane({ width, height, stride, offset }, value) {
  const bytes = new Uint8Array(offset + height * stride).fill(255);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      bytes[offset + y * stride + x] = value(Math.floor((x * FINGERPRINT.width) / width), Math.floor((y * FINGERPRINT.height) / height));
    }
  }
  return bytes;
}

const gradient = (column, row) => 16 + column * 10 + row * 3; // 16–193: inside the studio range

test("a studio-range luma plane gives each block's mean stretched to full range", () => {
  const layout = { width: 64, height: 36, stride: 80, offset: 12 };
  const print = lumaFingerprint(plane(layout, gradient), { offset: 12, stride: 80 }, { width: 64, height: 36 }, false);
  assert.deepEqual([print.width, print.height], [16, 9]);
  for (let row = 0; row < 9; row += 1) {
    for (let column = 0; column < 16; column += 1) {
      assert.equal(print.values[row * 16 + column], Math.round(((gradient(column, row) - 16) * 255) / 219), `block ${column},${row}`);
    }
  }
});

test("the padding at the end of each row does not count, and full-range values are kept as they are", () => {
  const bytes = plane({ width: 96, height: 54, stride: 128, offset: 0 }, gradient);
  const print = lumaFingerprint(bytes, { offset: 0, stride: 128 }, { width: 96, height: 54 }, true);
  assert.deepEqual([...print.values], Array.from({ length: 144 }, (_, block) => gradient(block % 16, Math.floor(block / 16))));
});

test("the same picture in two sizes gives nearly the same fingerprint; another picture does not", () => {
  const small = lumaFingerprint(plane({ width: 160, height: 90, stride: 160, offset: 0 }, gradient), { offset: 0, stride: 160 },
    { width: 160, height: 90 }, false);
  const large = lumaFingerprint(plane({ width: 640, height: 360, stride: 640, offset: 0 }, gradient), { offset: 0, stride: 640 },
    { width: 640, height: 360 }, false);
  const other = lumaFingerprint(plane({ width: 160, height: 90, stride: 160, offset: 0 }, (column, row) => gradient(15 - column, row)),
    { offset: 0, stride: 160 }, { width: 160, height: 90 }, false);
  assert.ok(fingerprintDistance(small, large) < 0.6, "the very frame");
  assert.ok(fingerprintDistance(small, other) > 20);
});

test("values outside the studio range are clamped to 0–255", () => {
  const print = lumaFingerprint(plane({ width: 32, height: 18, stride: 32, offset: 0 }, (column) => (column < 8 ? 0 : 255)),
    { offset: 0, stride: 32 }, { width: 32, height: 18 }, false);
  assert.equal(print.values[0], 0);
  assert.equal(print.values[15], 255);
});
