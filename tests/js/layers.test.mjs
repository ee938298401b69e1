import assert from "node:assert/strict";
import { test } from "node:test";

import { layerFor, SIMULCAST_ENCODINGS } from "/static/js/call/layers.js";

test("three layers, lowest first, each half the one above", () => {
  assert.deepEqual(SIMULCAST_ENCODINGS.map((encoding) => encoding.scaleResolutionDownBy), [4, 2, 1]);
});

test("a small tile takes the low layer, a middling one the middle, a large (pinned) one the high", () => {
  assert.equal(layerFor(0), 0);
  assert.equal(layerFor(150), 0); // 120 px of a 480 px camera fills 150 well enough
  assert.equal(layerFor(170), 1);
  assert.equal(layerFor(320), 1);
  assert.equal(layerFor(330), 2);
  assert.equal(layerFor(2000), 2);
});

test("a smaller camera reaches for higher layers sooner", () => {
  assert.equal(layerFor(150, 240), 1);
  assert.equal(layerFor(240, 240), 2);
});
