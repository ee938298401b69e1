import assert from "node:assert/strict";
import { test } from "node:test";

import { layerFor, simulcastEncodings } from "/static/js/call/layers.js";
import { capLayers } from "/static/js/sharing/transport.js";

const shape = (encodings) => encodings.map(({ rid, active, scaleResolutionDownBy }) => [rid, active, scaleResolutionDownBy]);

test("a camera of 640×480 sends two layers, 240 and 480 lines: the top one always the full picture", () => {
  assert.deepEqual(shape(simulcastEncodings(640, 480)), [["l", true, 2], ["m", true, 1], ["h", false, 1]]);
});

test("a 1280×720 picture (a screen) sends three layers, a 320×240 camera only itself", () => {
  assert.deepEqual(shape(simulcastEncodings(1280, 720)), [["l", true, 4], ["m", true, 2], ["h", true, 1]]);
  assert.deepEqual(shape(simulcastEncodings(320, 240)), [["l", true, 1], ["m", false, 1], ["h", false, 1]]);
  assert.deepEqual(shape(simulcastEncodings(0, 0)), shape(simulcastEncodings(640, 480)));
});

test("each layer may send what its size warrants", () => {
  assert.deepEqual(simulcastEncodings(1280, 720).map((encoding) => encoding.maxBitrate), [500_000, 1_200_000, 2_500_000]);
});

test("a small tile takes the low layer, a middling one the middle, a large (pinned) one the high", () => {
  assert.equal(layerFor(0), 0);
  assert.equal(layerFor(320), 0);
  assert.equal(layerFor(321), 1);
  assert.equal(layerFor(640), 1);
  assert.equal(layerFor(641), 2);
});

test("the trailers' share comes off every simulcast layer's own cap, not the lowest layer's alone, and goes back when they stop", () => {
  const encodings = simulcastEncodings(640, 480); // 500 and 1200 kbit/s, the third inactive
  const first = capLayers(encodings, 80_000, undefined);
  assert.deepEqual(encodings.map((encoding) => encoding.maxBitrate), [460_000, 1_160_000, 1_160_000]);
  const stopped = capLayers(encodings, 0, first);
  assert.deepEqual(encodings.map((encoding) => encoding.maxBitrate), [500_000, 1_200_000, 1_200_000]);
  // The publisher fits its layers to a screen (three layers): those caps are the layers' own from now on.
  const screen = simulcastEncodings(1280, 720);
  encodings.forEach((encoding, index) => Object.assign(encoding, screen[index]));
  capLayers(encodings, 90_000, stopped);
  assert.deepEqual(encodings.map((encoding) => encoding.maxBitrate), [470_000, 1_170_000, 2_470_000]);
});

test("no layer is capped below 100 kbit/s for the trailers' sake", () => {
  const encodings = [{ rid: "l", active: true, maxBitrate: 150_000 }];
  capLayers(encodings, 400_000, undefined);
  assert.equal(encodings[0].maxBitrate, 100_000);
});
