import assert from "node:assert/strict";
import { test } from "node:test";

import { SPEAKING_LEVEL, SpeakingDetector } from "/static/js/ui/speaking.js";

const LOUD = 0.2;
const QUIET = 0.001;

/** A detector over levels the test sets, on a clock the test moves by 100 ms a sample. */
function detector() {
  const levels = new Map();
  let now = 0;
  const changes = [];
  const speaking = new SpeakingDetector(() => new Map(levels), { now: () => now });
  speaking.on("change", (who, active) => changes.push({ who: [...who].sort(), active }));
  const run = (samples) => {
    for (let index = 0; index < samples; index++) {
      now += 100;
      speaking.sample();
    }
  };
  return { levels, speaking, changes, run, last: () => changes.at(-1) };
}

test("someone above the threshold speaks; someone silent or muted never does", () => {
  const { levels, run, last } = detector();
  levels.set("ada", LOUD).set("bob", 0);
  run(3);
  assert.deepEqual(last(), { who: ["ada"], active: "ada" });
  assert.ok(QUIET < SPEAKING_LEVEL);
});

test("the ring stays between words and goes after a pause", () => {
  const { levels, run, last, changes } = detector();
  levels.set("ada", LOUD);
  run(2);
  levels.set("ada", QUIET);
  run(3); // 300 ms of silence: still speaking
  assert.equal(changes.length, 1);
  run(5);
  assert.deepEqual(last(), { who: [], active: null });
});

test("the active speaker changes only when someone is clearly louder, and is remembered through silence", () => {
  const { levels, run, last, speaking } = detector();
  levels.set("ada", 0.1).set("bob", 0.12);
  run(20);
  assert.equal(last().active, "bob");
  levels.set("ada", 0.14); // a little louder than Bob now: Bob stays
  run(20);
  assert.equal(last().active, "bob");
  levels.set("ada", 0.4);
  run(20);
  assert.equal(last().active, "ada");
  levels.set("ada", 0).set("bob", 0);
  run(10);
  assert.equal(last().active, null);
  assert.equal(speaking.lastActive, "ada");
});

test("someone who left is forgotten", () => {
  const { levels, run, last } = detector();
  levels.set("ada", LOUD).set("bob", LOUD);
  run(2);
  levels.delete("bob");
  run(1);
  assert.deepEqual(last().who, ["ada"]);
});
