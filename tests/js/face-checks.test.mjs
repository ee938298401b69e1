import assert from "node:assert/strict";
import { test } from "node:test";

import { FACE_CHECK, isFaceOf, keepFaces, personShare } from "/static/js/analysis/face-checks.js";
import { FaceTracker } from "/static/js/analysis/face-tracks.js";

// As TinyFaceDetector found them at 224 px in the astronaut picture (bench/faces_unseen.py):
// her face, and a box from her chin down over her chest and shoulder.
const face = { x: 0.42, y: 0.14, width: 0.16, height: 0.21, score: 0.84 };
const body = { x: 0.1, y: 0.34, width: 0.45, height: 0.56, score: 0.71 };

/** A mask `width` × `height` whose person is the rectangle `box` (fractions of the frame). */
function maskOf(box, width = 64, height = 36) {
  const alpha = new Uint8ClampedArray(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const inside = x / width >= box.x && x / width < box.x + box.width && y / height >= box.y && y / height < box.y + box.height;
      alpha[y * width + x] = inside ? 255 : 0;
    }
  }
  return { width, height, alpha, coverage: box.width * box.height, box, centroid: { x: box.x + box.width / 2, y: box.y + box.height / 2 } };
}

test("a box with a much narrower face at its top is that face's body, and goes", () => {
  assert.equal(isFaceOf(face, body), true);
  assert.deepEqual(keepFaces([face, body], "body"), [face]);
  assert.deepEqual(keepFaces([body, face], "body"), [face], "whichever comes first");
});

test("a box round the whole person, its face inside its upper half, goes too", () => {
  const whole = { x: 0.2, y: 0.05, width: 0.66, height: 0.8, score: 0.33 };
  assert.deepEqual(keepFaces([whole, face], "body"), [face]);
});

test("faces side by side, one above the other or of people near and far all stay", () => {
  const beside = { x: 0.7, y: 0.12, width: 0.17, height: 0.22, score: 0.8 };
  const below = { x: 0.4, y: 0.62, width: 0.3, height: 0.36, score: 0.8 }; // someone close in front, under a face further back
  const behind = { x: 0.5, y: 0.02, width: 0.08, height: 0.1, score: 0.7 }; // a small face well above a big one's hair
  const near = { x: 0.42, y: 0.3, width: 0.3, height: 0.36, score: 0.9 };
  assert.deepEqual(keepFaces([face, beside], "body"), [face, beside]);
  assert.deepEqual(keepFaces([face, below], "body"), [face, below]);
  assert.deepEqual(keepFaces([behind, near], "body"), [behind, near]);
});

test("a body box found when the detector missed the face is dropped by the face shown last", () => {
  assert.deepEqual(keepFaces([body], "body"), [body], "nothing to tell it by");
  assert.deepEqual(keepFaces([body], "body", null, [face]), []);
  const tracker = new FaceTracker();
  tracker.update([face], 0);
  const shown = tracker.update([face], 250);
  assert.deepEqual(tracker.shown, shown);
  assert.deepEqual(keepFaces([body], "body", null, tracker.shown), []);
  tracker.reset();
  assert.deepEqual(tracker.shown, []);
});

test("the mask check drops a box whose middle is background, and keeps one on the person", () => {
  const mask = maskOf({ x: 0.3, y: 0.05, width: 0.4, height: 0.95 });
  const offPerson = { x: 0.78, y: 0.2, width: 0.15, height: 0.2, score: 0.6 };
  assert.ok(personShare(face, mask) > 0.9);
  assert.equal(personShare(offPerson, mask), 0);
  assert.deepEqual(keepFaces([face, offPerson], "mask", mask), [face]);
  assert.deepEqual(keepFaces([face, offPerson], "body"), [face, offPerson], "the body check alone keeps it");
});

test("without a mask, or with one that found nobody, the mask check keeps every face", () => {
  const offPerson = { x: 0.78, y: 0.2, width: 0.15, height: 0.2, score: 0.6 };
  assert.deepEqual(keepFaces([offPerson], "mask"), [offPerson]);
  const nobody = { ...maskOf({ x: 0, y: 0, width: 0, height: 0 }), box: null };
  assert.deepEqual(keepFaces([offPerson], "mask", nobody), [offPerson]);
});

test("the page applies both checks; `none` applies neither", () => {
  assert.equal(FACE_CHECK, "body+mask");
  const mask = maskOf({ x: 0.05, y: 0.05, width: 0.6, height: 0.95 });
  const offPerson = { x: 0.78, y: 0.2, width: 0.15, height: 0.2, score: 0.6 };
  assert.deepEqual(keepFaces([face, body, offPerson], FACE_CHECK, mask), [face]);
  assert.deepEqual(keepFaces([face, body, offPerson], "none", mask), [face, body, offPerson]);
});
