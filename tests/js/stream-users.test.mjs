import assert from "node:assert/strict";
import { test } from "node:test";

import { StreamUsers } from "/static/js/analysis/stream-users.js";

test("a stream is wanted until the last of its users removes it; then its face tracker starts over", () => {
  const users = new StreamUsers();
  users.add("self", "scene");
  users.add("self", "share");
  users.add("self", "share"); // the same user twice counts once
  const tracker = users.tracker("self");
  assert.equal(users.tracker("self"), tracker, "one tracker a stream");
  assert.notEqual(users.tracker("other"), tracker, "streams apart");
  assert.equal(users.remove("self", "share"), false, "the scene still wants it");
  assert.equal(users.tracker("self"), tracker);
  assert.equal(users.remove("self", "scene"), true, "nobody wants it any more");
  assert.notEqual(users.tracker("self"), tracker, "a stream analysed again tracks faces afresh");
  assert.equal(users.remove("never", "tile"), true, "a stream nobody asked for is nobody's");
});
