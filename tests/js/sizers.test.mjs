import assert from "node:assert/strict";
import { test } from "node:test";

import { inputSize } from "/static/js/analysis/frames.js";
import { FaceInputSizer, fixedSize } from "/static/js/analysis/sizers.js";

/** A stream of a 640×480 camera, as the scheduler hands it to a sizer. */
function stream(videoWidth = 640, videoHeight = 480) {
  return { video: { videoWidth, videoHeight }, results: {} };
}

const face = (width) => ({ x: 0.3, y: 0.3, width, height: width });

test("a model's input is its own size, or its width at the video's proportions", () => {
  const input = { width: 256, height: 144 };
  assert.deepEqual(fixedSize(input).size(stream()), { width: 256, height: 144 });
  assert.deepEqual(fixedSize(input, true).size(stream()), { width: 256, height: 192 });
  assert.deepEqual(fixedSize(input, true).size(stream(1280, 720)), { width: 256, height: 144 });
  assert.deepEqual(inputSize({ videoWidth: 480, videoHeight: 640 }, { width: 160 }, true), { width: 160, height: 213 });
});

test("the face detector's input follows the faces and is scanned in full again when faces may have been missed (docs/protocol.md)", () => {
  const sizer = new FaceInputSizer({ largest: 224, rescanMs: 1000 });
  const camera = stream();
  const found = (width, faces, now) => {
    camera.results.faces = { faces };
    sizer.seen(camera, { width }, { faces }, now);
  };
  assert.equal(sizer.width(camera, 0), 224, "nothing known yet: the full preset");
  found(224, [face(0.45)], 0); // one big face: a box of 0.45 of the width
  assert.equal(sizer.width(camera, 100), 128, "56 px of box needs 56 / 0.45 = 124 px of input");
  found(128, [face(0.45)], 100);
  assert.equal(sizer.width(camera, 200), 128);
  assert.equal(sizer.width(camera, 1000), 224, "a full scan every second");
  found(224, [face(0.45), face(0.1)], 1000); // a newcomer, far from the camera
  assert.equal(sizer.width(camera, 1100), 224, "56 / 0.1 = 560: no more than the preset");
  found(224, [face(0.3)], 1100);
  assert.equal(sizer.width(camera, 1200), 192);
  found(192, [], 1200); // found nobody at the smaller input
  assert.equal(sizer.width(camera, 1300), 224, "fewer faces than the last full scan: look again in full");
  found(224, [], 1300);
  assert.equal(sizer.width(camera, 1400), 160, "nobody found in full: a close face is looked for small");
  found(160, [], 1400);
  assert.equal(sizer.width(camera, 1500), 224, "and the full preset again");
});

test("while full scans find nobody, every other frame looks for a face close to the camera", () => {
  const sizer = new FaceInputSizer({ largest: 416 });
  const camera = stream();
  const widths = [];
  for (let frame = 0; frame < 6; frame += 1) {
    const width = sizer.width(camera, frame * 250);
    widths.push(width);
    const faces = width <= 160 && frame >= 3 ? [face(0.5)] : []; // a face only a small input finds, from the 4th frame
    camera.results.faces = { faces };
    sizer.seen(camera, { width }, { faces }, frame * 250);
  }
  // Full, close-up, full, close-up (found: 56 / 0.5 = 112 px, in 32s), then sized by the face.
  assert.deepEqual(widths, [416, 160, 416, 160, 128, 128]);
  assert.equal(new FaceInputSizer({ largest: 128 }).width(stream(), 0), 128, "a preset at or under 160 is never left");
});

test("the face detector's input is at least `smallest` (96), in multiples of 32, at the video's proportions", () => {
  const sizer = new FaceInputSizer({ largest: 416 });
  const camera = stream();
  camera.results.faces = { faces: [face(0.9)] };
  sizer.seen(camera, { width: 416 }, camera.results.faces, 0);
  assert.deepEqual(sizer.size(camera, 10), { width: 96, height: 72 }); // 56 / 0.9 = 62 px, but no less than 96
  camera.results.faces = { faces: [face(0.9), face(0.35)] };
  sizer.seen(camera, { width: 416 }, camera.results.faces, 20);
  assert.deepEqual(sizer.size(camera, 30), { width: 160, height: 120 }); // 56 / 0.35 = 160
});

test("a preset smaller than 96 is used as it is", () => {
  const sizer = new FaceInputSizer({ largest: 64 });
  const camera = stream();
  camera.results.faces = { faces: [face(0.9)] };
  sizer.seen(camera, { width: 64 }, camera.results.faces, 0);
  assert.equal(sizer.width(camera, 10), 64);
});

test("each stream is sized by its own faces", () => {
  const sizer = new FaceInputSizer({ largest: 320 });
  const close = stream();
  const group = stream();
  close.results.faces = { faces: [face(0.5)] };
  group.results.faces = { faces: [face(0.1), face(0.12), face(0.09)] };
  sizer.seen(close, { width: 320 }, close.results.faces, 0);
  sizer.seen(group, { width: 320 }, group.results.faces, 0);
  assert.equal(sizer.width(close, 10), 128);
  assert.equal(sizer.width(group, 10), 320);
});
