import assert from "node:assert/strict";
import { test } from "node:test";

import { wantsIn, wantsMessage } from "/static/js/sharing/wants.js";

const wants = { mask: true, faces: false, landmarks: false, expressions: true };

test("a wants message goes out as the protocol names it and reads back as it was said", () => {
  const message = wantsMessage(wants);
  assert.deepEqual(message, { type: "wants", ...wants });
  assert.deepEqual(wantsIn(JSON.parse(JSON.stringify(message))), message);
});

test("any other message, or none, wants nothing", () => {
  for (const other of [null, undefined, "wants", 7, [], {}, { type: "chat" }, { mask: true }]) assert.equal(wantsIn(other), null, JSON.stringify(other));
});
