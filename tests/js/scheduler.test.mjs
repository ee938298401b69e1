import assert from "node:assert/strict";
import { test } from "node:test";

import { AnalysisScheduler, StreamState } from "/static/js/analysis/scheduler.js";
import { fixedSize } from "/static/js/analysis/sizers.js";
import { fakeClock } from "./clock.mjs";

// The browser's side of a frame, the only part not run for real: Node has neither VideoFrame
// nor createImageBitmap, so frames.js's `grab` gets a stand-in bitmap of the size asked for.
globalThis.createImageBitmap = async (video, { resizeWidth, resizeHeight }) => ({ width: resizeWidth, height: resizeHeight, close() {} });

const SIZER = fixedSize({ width: 32, height: 24 });

/** A playing <video> whose picture changes `fps` times a second of the fake clock (0: a still picture). */
function video(clock, fps = 30) {
  return { readyState: 4, videoWidth: 64, videoHeight: 48, getVideoPlaybackQuality: () => ({ totalVideoFrames: Math.floor((clock.now * fps) / 1000) }) };
}

/** A stand-in engine taking `ms` of the fake clock a frame; `fail(n)` says whether run n (from 1) throws. */
function runner(name, ms, fail = () => false) {
  const engine = {
    name,
    runs: 0,
    running: 0,
    sizes: [],
    terminated: false,
    terminatedWhileRunning: false,
    async run(frame, size) {
      engine.running += 1;
      engine.sizes.push([frame.width, frame.height, size.width, size.height]);
      await new Promise((resolve) => setTimeout(resolve, ms));
      engine.running -= 1;
      engine.runs += 1;
      if (fail(engine.runs)) throw new Error(`${name} failed`);
      return { result: { by: name, run: engine.runs }, ms };
    },
    terminate() {
      engine.terminated = true;
      engine.terminatedWhileRunning ||= engine.running > 0;
    },
  };
  return engine;
}

/** A scheduler whose `result` and `error` events are collected. */
function scheduler(options = { monitor: { fps: 60 } }) {
  const analysis = new AnalysisScheduler(options);
  analysis.results = [];
  analysis.errors = [];
  analysis.on("result", (id, model, result) => analysis.results.push({ id, model, ...result }));
  analysis.on("error", (model, error) => analysis.errors.push([model, error.message]));
  return analysis;
}

const count = (results, where) => results.filter((result) => Object.entries(where).every(([key, value]) => result[key] === value)).length;

test("each new video frame is analysed once, at the size the sizer picks; a still picture only once", async (t) => {
  const clock = fakeClock(t);
  const analysis = scheduler();
  const engine = runner("mask", 5);
  analysis.addStream("moving", video(clock, 10));
  analysis.addStream("still", video(clock, 0));
  analysis.addModel("mask", engine, { sizer: SIZER, maxHz: 50 });
  analysis.start();
  await clock.advance(2000);
  analysis.stop();
  assert.ok(count(analysis.results, { id: "moving" }) >= 19 && count(analysis.results, { id: "moving" }) <= 20, `${count(analysis.results, { id: "moving" })} of 20 frames`);
  assert.equal(count(analysis.results, { id: "still" }), 1);
  assert.deepEqual(new Set(engine.sizes.map(String)), new Set(["32,24,32,24"]));
  assert.equal(analysis.latest("moving").results.mask.by, "mask");
  assert.deepEqual(analysis.errors, []);
});

test("no stream gets more results a second than the model's `maxHz`", async (t) => {
  const clock = fakeClock(t);
  const analysis = scheduler();
  analysis.addStream("a", video(clock, 60));
  analysis.addModel("mask", runner("mask", 2), { sizer: SIZER, maxHz: 10 });
  analysis.start();
  await clock.advance(3000);
  analysis.stop();
  const results = count(analysis.results, { id: "a" });
  // Near the cap, not above it (a model with nothing due looks again every 30 ms).
  assert.ok(results >= 20 && results <= 30, `${results} in 3 s`);
  assert.ok(analysis.latest("a").rate("mask") <= 10);
});

test("a slow engine's time is shared evenly among the streams, and a stream switched off gives its share to the others", async (t) => {
  const clock = fakeClock(t);
  const analysis = scheduler();
  for (const id of ["a", "b", "c"]) analysis.addStream(id, video(clock, 30));
  analysis.addModel("mask", runner("mask", 50), { sizer: SIZER, maxHz: 50 }); // 20 frames a second in all
  analysis.start();
  await clock.advance(3000);
  const shares = ["a", "b", "c"].map((id) => count(analysis.results, { id }));
  assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, `round-robin: ${shares}`);
  assert.ok(shares.every((share) => share >= 19), `${shares}`);

  analysis.setStreamEnabled("c", false);
  const before = analysis.results.length;
  const shown = analysis.latest("c").results.mask;
  await clock.advance(3000);
  analysis.stop();
  const later = analysis.results.slice(before);
  assert.equal(count(later, { id: "c" }), 0, "not even the frame the engine had when it was switched off");
  assert.ok(count(later, { id: "a" }) >= 28 && count(later, { id: "b" }) >= 28, `${count(later, { id: "a" })}, ${count(later, { id: "b" })}`);
  assert.equal(analysis.latest("c").results.mask, shown, "a stream switched off keeps what it showed");
});

test("a stream removed or switched off during an inference keeps what it showed before", async (t) => {
  const clock = fakeClock(t);
  const analysis = scheduler();
  analysis.addStream("leaving", video(clock, 30));
  analysis.addStream("paused", video(clock, 30));
  analysis.addModel("mask", runner("mask", 100), { sizer: SIZER, maxHz: 50 });
  analysis.start();
  await clock.until(() => analysis.results.length === 2);
  const paused = analysis.latest("paused");
  const shown = paused.results.mask;
  await clock.advance(10); // the next frame of "leaving" is in the engine now
  analysis.removeStream("leaving");
  await clock.advance(100); // and the next of "paused"
  analysis.setStreamEnabled("paused", false);
  await clock.advance(500);
  analysis.stop();
  assert.equal(analysis.results.length, 2);
  assert.equal(analysis.latest("leaving"), null);
  assert.deepEqual(analysis.streamIds(), ["paused"]);
  assert.equal(paused.results.mask, shown);
});

test("with analysis switched off nothing is analysed, and results come again once it is back on", async (t) => {
  const clock = fakeClock(t);
  const analysis = scheduler();
  analysis.addStream("a", video(clock, 30));
  analysis.addModel("mask", runner("mask", 5), { sizer: SIZER, maxHz: 50 });
  analysis.setEnabled(false);
  analysis.start();
  await clock.advance(1000);
  assert.equal(analysis.results.length, 0);
  assert.equal(analysis.enabled, false);
  analysis.setEnabled(true);
  await clock.advance(1000);
  analysis.stop();
  assert.ok(analysis.results.length >= 25, `${analysis.results.length}`);
});

test("a faster backend takes over without losing a frame or an error; the old one finishes its frame first", async (t) => {
  const clock = fakeClock(t);
  const analysis = scheduler();
  analysis.addStream("stream", video(clock, 20));
  const slow = runner("slow", 60);
  const fast = runner("fast", 10);
  analysis.addModel("mask", slow, { sizer: SIZER, maxHz: 50 });
  analysis.start();
  await clock.until(() => slow.runs >= 3);
  await clock.advance(20); // the slow one is in the middle of a frame
  assert.equal(slow.running, 1);
  analysis.addModel("mask", fast, { sizer: SIZER, maxHz: 50 });
  await clock.until(() => fast.runs >= 5 && slow.terminated);
  analysis.stop();
  const by = analysis.results.map((result) => result.by);
  assert.deepEqual(analysis.errors, []);
  assert.ok(slow.terminated && !slow.terminatedWhileRunning);
  assert.ok(!fast.terminated);
  assert.ok(by.slice(by.indexOf("fast")).filter((name) => name === "slow").length <= 1, `${by}`);
  assert.equal(by.filter((name) => name === "slow").length, 4, "its last frame still counts");
});

test("a model ahead of its target rate gives its time to one behind (masks 100 ms, faces 40 ms a frame)", async (t) => {
  const clock = fakeClock(t);
  /** Faces results a second between seconds 1 and 3, and the pauses the scheduler adds. */
  const measure = async (maskTargetHz) => {
    const analysis = scheduler();
    const faces = runner("faces", 40);
    analysis.addStream("stream", video(clock, 30));
    analysis.addModel("mask", runner("mask", 100), { sizer: SIZER, maxHz: 50, targetHz: maskTargetHz });
    analysis.addModel("faces", faces, { sizer: SIZER, maxHz: 50, targetHz: 2 });
    analysis.start();
    await clock.advance(1000);
    const before = faces.runs;
    await clock.advance(2000);
    const result = { faces: (faces.runs - before) / 2, pauses: analysis.delays() };
    analysis.stop();
    await clock.advance(200);
    return result;
  };
  const masksBehind = await measure(20); // masks can reach 10 a second at most
  const masksOnTarget = await measure(5);
  assert.deepEqual(masksBehind.pauses, { mask: 0, faces: 40 }, "faces pause as long as each inference took");
  assert.deepEqual(masksOnTarget.pauses, { mask: 0, faces: 0 });
  assert.ok(masksBehind.faces < 0.75 * masksOnTarget.faces, JSON.stringify({ masksBehind, masksOnTarget }));
  assert.ok(masksBehind.faces >= 2, "never below its own target");
});

test("while the page draws below 24 frames a second analysis slows down (at most to a pause of 500 ms), and speeds up when it recovers", async (t) => {
  const clock = fakeClock(t);
  const monitor = { fps: 60 };
  const analysis = scheduler({ monitor });
  analysis.addStream("a", video(clock, 30));
  analysis.addModel("mask", runner("mask", 10), { sizer: SIZER, maxHz: 50 });
  analysis.start();
  await clock.advance(1000);
  assert.deepEqual(analysis.delays(), { mask: 0 });

  monitor.fps = 12;
  await clock.until(() => analysis.delays().mask === 500);
  let before = analysis.results.length;
  await clock.advance(5000);
  const slowHz = (analysis.results.length - before) / 5;
  assert.equal(analysis.delays().mask, 500, "no longer than half a second");
  assert.ok(slowHz >= 1.8 && slowHz <= 2, `still about twice a second: ${slowHz}`);

  monitor.fps = 26; // recovering, not yet back: the pause stays
  await clock.advance(2000);
  assert.equal(analysis.delays().mask, 500);

  monitor.fps = 30;
  await clock.until(() => analysis.delays().mask === 0, 10_000);
  before = analysis.results.length;
  await clock.advance(1000);
  analysis.stop();
  assert.ok(analysis.results.length - before >= 20, `${analysis.results.length - before}`);
});

test("a failing engine is reported and backs off; results come again once it works", async (t) => {
  const clock = fakeClock(t);
  const analysis = scheduler();
  const engine = runner("mask", 10, (run) => run <= 5);
  analysis.addStream("a", video(clock, 30));
  analysis.addModel("mask", engine, { sizer: SIZER, maxHz: 50 });
  analysis.start();
  await clock.advance(6100);
  // Pauses of 0.4, 0.8, 1.6 and 3.2 s after the first four failures: five tries in 6 s, not hundreds.
  assert.equal(engine.runs, 5);
  assert.deepEqual(analysis.errors, Array(5).fill(["mask", "mask failed"]));
  assert.equal(analysis.results.length, 0);
  await clock.advance(4900); // the fifth pause is 5 s (the longest)
  assert.equal(analysis.results.length, 0);
  await clock.advance(1100); // then it works
  analysis.stop();
  assert.ok(analysis.results.length >= 20, `${analysis.results.length}`);
  assert.equal(analysis.errors.length, 5);
});

test("a stream's rate is results a second, and falls once results stop coming", () => {
  const stream = new StreamState({});
  const clock = { now: 0 };
  const real = performance.now;
  performance.now = () => clock.now;
  try {
    assert.equal(stream.rate("mask", 0), undefined);
    for (let at = 0; at <= 2000; at += 100) {
      clock.now = at;
      stream.record("mask", { at }, 12);
    }
    assert.equal(stream.count.mask, 21);
    assert.deepEqual([stream.results.mask, stream.ms.mask], [{ at: 2000 }, 12]);
    assert.ok(Math.abs(stream.rate("mask", 2050) - 10) < 1e-9);
    assert.equal(stream.rate("mask", 2500), 2); // nothing for half a second: at most 2 a second
    assert.equal(stream.rate("faces", 2500), undefined);
  } finally {
    performance.now = real;
  }
});

test("a stream given to its sender is not analysed here, and is again once it is back; each change is counted once", async (t) => {
  const clock = fakeClock(t);
  const analysis = scheduler();
  analysis.addStream("a", video(clock, 30));
  analysis.addModel("mask", runner("mask", 5), { sizer: SIZER, maxHz: 10 });
  analysis.start();
  await clock.advance(500);
  assert.equal(analysis.setSource("a", "sender"), true);
  assert.equal(analysis.setSource("a", "sender"), false, "the same source again is no change");
  assert.equal(analysis.setSource("gone", "sender"), false, "a stream not shown here has no source");
  await clock.advance(20); // an inference under way finishes
  const before = count(analysis.results, { id: "a" });
  await clock.advance(1000);
  assert.equal(count(analysis.results, { id: "a" }), before, "nothing analysed while the sender shares");
  assert.equal(analysis.setSource("a", "local"), true);
  await clock.advance(1000);
  analysis.stop();
  assert.ok(count(analysis.results, { id: "a" }) >= before + 8, `${count(analysis.results, { id: "a" })} after ${before}`);
  assert.deepEqual([analysis.latest("a").source, analysis.latest("a").sourceChanges], ["local", 2]);
});

test("a fingerprint set for a stream is noted of each frame whose mask is computed", async (t) => {
  const clock = fakeClock(t);
  const analysis = scheduler();
  const noted = [];
  analysis.on("result", (id, model, result, frame) => noted.push(frame.fingerprint));
  analysis.addStream("own", video(clock, 10));
  analysis.setFingerprint("own", (frame) => `${frame.width}x${frame.height}`);
  analysis.setFingerprint("gone", () => "never"); // not shown here: nothing to note
  analysis.addModel("mask", runner("mask", 5), { sizer: SIZER, maxHz: 10 });
  analysis.start();
  await clock.advance(500);
  analysis.stop();
  assert.ok(noted.length >= 3 && noted.every((one) => one === "32x24"), JSON.stringify(noted));
  assert.equal(analysis.latest("gone"), null);
});
