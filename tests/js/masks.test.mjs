import assert from "node:assert/strict";
import { test } from "node:test";

import { summariseMask } from "/static/js/analysis/masks.js";

/** A confidence map of `width` × `height` that is `inside` where `isPerson(x, y)` and `outside` elsewhere. */
function confidence(width, height, isPerson, inside = 0.9, outside = 0.1) {
  const values = new Float32Array(width * height);
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) values[y * width + x] = isPerson(x, y) ? inside : outside;
  return values;
}

test("a person standing in the right half: how much of the frame, where, and the outline's centre", () => {
  // 16 × 8, the person fills columns 8–15 of rows 2–7.
  const mask = summariseMask(confidence(16, 8, (x, y) => x >= 8 && y >= 2), 16, 8);
  assert.equal(mask.width, 16);
  assert.equal(mask.height, 8);
  assert.equal(mask.coverage, (8 * 6) / (16 * 8));
  assert.deepEqual(mask.box, { x: 0.5, y: 0.25, width: 0.5, height: 0.75 });
  assert.deepEqual(mask.centroid, { x: 11.5 / 16, y: 4.5 / 8 });
});

test("the mask keeps each pixel's confidence as one byte, for drawing the cut-out's soft edge", () => {
  const values = Float32Array.from([0, 0.25, 0.5, 0.75, 1, 1.2]);
  const mask = summariseMask(values, 3, 2);
  assert.deepEqual([...mask.alpha], [0, 64, 128, 191, 255, 255]);
  assert.equal(mask.alpha.length, 6);
});

test("only pixels more likely person than not count", () => {
  const mask = summariseMask(Float32Array.from([0.5, 0.51, 0.49, 0.5]), 2, 2);
  assert.equal(mask.coverage, 0.25);
  assert.deepEqual(mask.box, { x: 0.5, y: 0, width: 0.5, height: 0.5 });
});

test("nobody in the picture: no coverage, no box, no centre", () => {
  const mask = summariseMask(confidence(8, 8, () => false), 8, 8);
  assert.equal(mask.coverage, 0);
  assert.equal(mask.box, null);
  assert.equal(mask.centroid, null);
});

test("two people apart: one box around both, the centre between them", () => {
  const mask = summariseMask(confidence(20, 10, (x) => x < 4 || x >= 16), 20, 10);
  assert.deepEqual(mask.box, { x: 0, y: 0, width: 1, height: 1 });
  assert.deepEqual(mask.centroid, { x: 9.5 / 20, y: 4.5 / 10 });
  assert.equal(mask.coverage, 0.4);
});
