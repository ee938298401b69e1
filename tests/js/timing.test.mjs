import assert from "node:assert/strict";
import { test } from "node:test";

import { medianMs } from "/static/js/lib/timing.js";

test("a backend's time is the median of its runs, after a warm-up run that does not count", async (t) => {
  let now = 0;
  t.mock.method(performance, "now", () => now);
  const durations = [900, 12, 30, 9, 11, 250]; // the first is the warm-up (compiling shaders, say)
  const calls = [];
  const ms = await medianMs(async () => {
    calls.push(now);
    now += durations[calls.length - 1];
  }, 5);
  assert.equal(calls.length, 6);
  assert.equal(ms, 12); // of 9, 11, 12, 30, 250: one slow run does not decide
});

test("a run that does not return a promise is timed as well", async (t) => {
  let now = 0;
  t.mock.method(performance, "now", () => now);
  const ms = await medianMs(() => {
    now += 4;
  }, 3);
  assert.equal(ms, 4);
});
