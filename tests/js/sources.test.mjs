import assert from "node:assert/strict";
import { test } from "node:test";

import { StreamSources } from "/static/js/analysis/sources.js";
import { SourcePicker } from "/static/js/sharing/source-picker.js";
import { fakeClock } from "./clock.mjs";

const both = { mask: true, faces: true };

/** A source policy with the real SourcePicker, whose rechecks are collected (stream id, fake time). */
function sources(clock) {
  const rechecks = [];
  const policy = new StreamSources({ newChoice: () => new SourcePicker(), recheck: (id) => rechecks.push([id, clock.now]) });
  return { policy, rechecks };
}

/** Shared results of one stream for `ms` of fake time: a mask every 66 ms, faces every 125 ms. */
async function share(clock, policy, id, ms) {
  for (let step = 0; step < ms; step += 1) {
    if (clock.now % 66 === 0) policy.arrived(id, "mask", clock.now);
    if (clock.now % 125 === 0) policy.arrived(id, "faces", clock.now);
    await clock.advance(1);
  }
}

test("a stream whose sender has shared nothing has no source to pick (analysed here), and nothing is rechecked", async (t) => {
  const clock = fakeClock(t, { intervals: true });
  const { policy, rechecks } = sources(clock);
  assert.equal(policy.pick("a", both, clock.now), null);
  assert.equal(policy.dropped("a"), false);
  await clock.advance(1000);
  assert.deepEqual(rechecks, []);
});

test("shared results at a useful rate make the sender the source; while a stream has a sender it is rechecked every 250 ms, until it is forgotten", async (t) => {
  const clock = fakeClock(t, { intervals: true });
  const { policy, rechecks } = sources(clock);
  await share(clock, policy, "a", 200);
  assert.equal(policy.pick("a", both, clock.now), "local", "too few results yet");
  await share(clock, policy, "a", 800);
  assert.equal(policy.pick("a", both, clock.now), "sender");
  const rates = policy.rates("a", clock.now);
  assert.ok(rates.mask >= 5 && rates.faces >= 2, JSON.stringify(rates));
  await clock.advance(2000);
  assert.deepEqual(rechecks.map(([id]) => id), Array(11).fill("a"), "the first pick (at 200 ms) starts the rechecks");
  assert.deepEqual(rechecks.map(([, at]) => at), Array.from({ length: 11 }, (_, index) => 450 + 250 * index));
  assert.equal(policy.pick("a", both, clock.now), "local", "nothing shared for two seconds: analysed here again");
  policy.forget("a");
  const before = rechecks.length;
  await clock.advance(1000);
  assert.equal(rechecks.length, before, "no stream with a sender: no more rechecks");
  assert.equal(policy.pick("a", both, clock.now), null, "a forgotten stream starts over");
});

test("a sender whose frames keep arriving damaged is dropped", async (t) => {
  const clock = fakeClock(t, { intervals: true });
  const { policy } = sources(clock);
  await share(clock, policy, "a", 1000);
  assert.equal(policy.pick("a", both, clock.now), "sender");
  for (let frame = 0; frame < 5; frame += 1) policy.damaged("a", clock.now);
  assert.equal(policy.dropped("a"), true);
  assert.equal(policy.pick("a", both, clock.now), "local");
});
