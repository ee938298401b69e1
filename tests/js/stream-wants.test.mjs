import assert from "node:assert/strict";
import { test } from "node:test";

import { StreamWants } from "/static/js/analysis/stream-wants.js";

const none = { landmarks: false, expressions: false };

test("the face detail of a stream is what any part of the page asks for; each part's ask replaces its own", () => {
  const asks = new StreamWants();
  assert.deepEqual(asks.detail("a"), none, "nothing asked: no detail");
  asks.setDetail("a", "tile", { landmarks: true, expressions: false });
  asks.setDetail("a", "scene", { landmarks: false, expressions: true });
  assert.deepEqual(asks.detail("a"), { landmarks: true, expressions: true });
  asks.setDetail("a", "tile", none);
  assert.deepEqual(asks.detail("a"), { landmarks: false, expressions: true });
  assert.deepEqual(asks.detail("b"), none, "streams apart");
});

test("what a page wants of a stream it does not analyse is nothing, whatever was asked", () => {
  const asks = new StreamWants();
  asks.setDetail("a", "tile", { landmarks: true, expressions: true });
  assert.deepEqual(asks.wants("a", true), { mask: true, faces: true, landmarks: true, expressions: true });
  assert.deepEqual(asks.wants("a", false), { mask: false, faces: false, landmarks: false, expressions: false });
});

test("wants are announced once per change, and again from scratch after the stream is forgotten", () => {
  const asks = new StreamWants();
  assert.deepEqual(asks.changed("a", true), { mask: true, faces: true, landmarks: false, expressions: false });
  assert.equal(asks.changed("a", true), null, "the same again is not announced");
  asks.setDetail("a", "scene", { landmarks: true, expressions: false });
  assert.deepEqual(asks.changed("a", true), { mask: true, faces: true, landmarks: true, expressions: false });
  assert.deepEqual(asks.changed("a", false), { mask: false, faces: false, landmarks: false, expressions: false });
  asks.forget("a");
  assert.deepEqual(asks.detail("a"), none, "what was asked is forgotten");
  assert.deepEqual(asks.changed("a", false), { mask: false, faces: false, landmarks: false, expressions: false }, "announced again after forget");
});
