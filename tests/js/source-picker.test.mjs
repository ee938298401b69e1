import assert from "node:assert/strict";
import { test } from "node:test";

import { SourcePicker } from "/static/js/sharing/source-picker.js";

const both = { mask: true, faces: true };

/** Shared results from `from` to `to` ms: masks every `maskMs`, faces every `facesMs` (0: none). */
function feed(picker, from, to, maskMs, facesMs) {
  for (let t = from; t < to; t += 1) {
    if (maskMs && t % maskMs === 0) picker.arrived("mask", t);
    if (facesMs && t % facesMs === 0) picker.arrived("faces", t);
  }
}

test("a stream is analysed here until its sender's results arrive at a useful rate", () => {
  const picker = new SourcePicker();
  assert.equal(picker.pick(both, 0), "local");
  feed(picker, 0, 200, 66, 125);
  assert.equal(picker.pick(both, 200), "local", "four masks are not yet five a second");
  feed(picker, 200, 1000, 66, 125);
  assert.equal(picker.pick(both, 1000), "sender");
});

test("a sender that stops or slows down gives the stream back to local analysis, and takes it again when it recovers", () => {
  const picker = new SourcePicker();
  feed(picker, 0, 1000, 66, 125);
  assert.equal(picker.pick(both, 1000), "sender");
  assert.equal(picker.pick(both, 1900), "sender", "a gap of most of a second is bridged");
  assert.equal(picker.pick(both, 3000), "local", "nothing for two seconds");
  feed(picker, 3000, 4000, 66, 125);
  assert.equal(picker.pick(both, 4000), "sender");
  feed(picker, 4000, 6000, 500, 125); // masks twice a second for two seconds: below the bar
  assert.equal(picker.pick(both, 6000), "local");
});

test("every model the page needs must come: faces alone do not make a sender of a stream whose mask is needed", () => {
  const picker = new SourcePicker();
  feed(picker, 0, 1000, 0, 125);
  assert.equal(picker.pick(both, 1000), "local");
  assert.equal(picker.pick({ mask: false, faces: true }, 1000), "sender");
});

test("near the bar a stream does not flap: it leaves its sender only well below the rate it needed to join", () => {
  const picker = new SourcePicker();
  feed(picker, 0, 1000, 200, 500); // exactly 5 masks and 2 faces a second
  assert.equal(picker.pick(both, 999), "sender");
  feed(picker, 1000, 3000, 250, 500); // 4 masks a second: under the bar to join, over the one to leave
  assert.equal(picker.pick(both, 2999), "sender");
});

test("a stream that needs nothing keeps its source", () => {
  const picker = new SourcePicker();
  feed(picker, 0, 1000, 66, 125);
  assert.equal(picker.pick(both, 1000), "sender");
  assert.equal(picker.pick({ mask: false, faces: false }, 5000), "sender");
});

test("a sender whose frames keep arriving damaged is dropped: its stream stays local while results still come", () => {
  const picker = new SourcePicker();
  feed(picker, 0, 1000, 66, 125);
  assert.equal(picker.pick(both, 1000), "sender");
  for (const t of [1000, 1100, 1200, 1300]) picker.damaged(t);
  assert.equal(picker.pick(both, 1300), "sender", "four damaged frames within 10 s are not yet five");
  assert.equal(picker.dropped, false);
  picker.damaged(1400);
  assert.equal(picker.dropped, true);
  assert.equal(picker.pick(both, 1400), "local");
  feed(picker, 1400, 60_000, 66, 125); // for the link's life: results at any rate change nothing
  assert.equal(picker.pick(both, 60_000), "local");
  assert.equal(picker.rate("mask", 60_000), 0, "nothing of a dropped sender is kept");
  assert.equal(picker.pick({ mask: false, faces: false }, 60_000), "local");
});

test("damage spread thinner than five frames in ten seconds does not drop a sender", () => {
  const picker = new SourcePicker();
  for (let t = 0; t < 60_000; t += 2600) picker.damaged(t); // four within any 10 s
  feed(picker, 59_000, 60_000, 66, 125);
  assert.equal(picker.dropped, false);
  assert.equal(picker.pick(both, 60_000), "sender");
});
