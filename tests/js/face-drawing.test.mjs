import assert from "node:assert/strict";
import { test } from "node:test";

import { anchorPlacement, eyeCentres, faceBox, STICKERS, toCanvas } from "/static/js/draw/face-drawing.js";

const RECT = { x: 100, y: 50, width: 400, height: 300 };
const FACE = { x: 0.1, y: 0.2, width: 0.25, height: 0.3 };

/** 68 landmarks with the eyes (points 36–41 and 42–47) around `left` and `right`. */
function landmarks(left, right) {
  const points = Array.from({ length: 68 }, () => [0.5, 0.5]);
  for (let i = 0; i < 6; i += 1) {
    const dx = (i - 2.5) * 0.004;
    points[36 + i] = [left[0] + dx, left[1] + (i % 2 ? 0.003 : -0.003)];
    points[42 + i] = [right[0] + dx, right[1] + (i % 2 ? 0.003 : -0.003)];
  }
  return points;
}

const close = (actual, expected) => Object.entries(expected).every(([key, value]) => Math.abs(actual[key] - value) < 1e-9);

test("a face's box lands where the face shows in the tile, mirrored when the picture is", () => {
  assert.deepEqual(faceBox(FACE, RECT), { x: 140, y: 110, width: 100, height: 90 });
  const mirrored = faceBox(FACE, { ...RECT, mirror: true });
  assert.ok(close(mirrored, { x: 360, y: 110, width: 100, height: 90 }), JSON.stringify(mirrored)); // the same distance from the right edge
  assert.deepEqual(toCanvas([0.25, 0.5], RECT), { x: 200, y: 200 });
  assert.deepEqual(toCanvas([0.25, 0.5], { ...RECT, mirror: true }), { x: 400, y: 200 });
});

test("the eyes come from the landmarks, the one on the left of the picture first, even when mirrored", () => {
  const face = { ...FACE, landmarks: landmarks([0.15, 0.3], [0.3, 0.32]) };
  const [left, right] = eyeCentres(face, RECT);
  assert.ok(close(left, { x: 160, y: 140 }) && close(right, { x: 220, y: 146 }), JSON.stringify([left, right]));
  const [mirroredLeft, mirroredRight] = eyeCentres(face, { ...RECT, mirror: true });
  assert.ok(mirroredLeft.x < mirroredRight.x);
  assert.ok(close(mirroredLeft, { x: 380, y: 146 }) && close(mirroredRight, { x: 440, y: 140 }), JSON.stringify([mirroredLeft, mirroredRight]));
});

test("without landmarks the eyes are estimated from the box: 30 % and 70 % across, 40 % down", () => {
  const [left, right] = eyeCentres(FACE, RECT);
  assert.ok(close(left, { x: 170, y: 146 }) && close(right, { x: 210, y: 146 }), JSON.stringify([left, right]));
});

test("glasses sit on the eyes, 2.4 times as wide as the eyes are apart, turned as the head is", () => {
  const glasses = STICKERS.glasses;
  const level = anchorPlacement(glasses.anchor, glasses.width, glasses.aspect, { ...FACE, landmarks: landmarks([0.15, 0.3], [0.3, 0.3]) }, RECT);
  assert.ok(close(level, { x: 190, y: 140, width: 144, height: 144 * glasses.aspect, angle: 0 }), JSON.stringify(level));
  // Head tilted: the right eye 60 px lower than the left, 60 px to its right.
  const tilted = anchorPlacement("eyes", 2.4, 0.5, { ...FACE, landmarks: landmarks([0.15, 0.3], [0.3, 0.5]) }, RECT);
  assert.ok(close(tilted, { angle: Math.PI / 4, width: 2.4 * Math.hypot(60, 60), x: 190, y: 170 }), JSON.stringify(tilted));
});

test("a hat stands on the head (a tenth into the box) and a face-covering sticker is centred on the face", () => {
  const hat = anchorPlacement("head", 0.8, 1.0, FACE, RECT);
  assert.ok(close(hat, { x: 190, width: 80, height: 80, angle: 0, y: 110 - 40 + 9 }), JSON.stringify(hat));
  const mask = anchorPlacement("face", 1.0, 1.2, FACE, RECT);
  assert.ok(close(mask, { x: 190, y: 155, width: 100, height: 120, angle: 0 }), JSON.stringify(mask));
});
