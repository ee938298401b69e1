import assert from "node:assert/strict";
import { test } from "node:test";

import { FaceTracker } from "/static/js/analysis/face-tracks.js";

/** A face box 0.2 wide at (x, y), as the detector reports it. */
const face = (x, y, score = 0.6) => ({ x, y, width: 0.2, height: 0.25, score });

/** Feed `results` a quarter of a second apart; what was shown after each. */
function shownAfter(tracker, results) {
  return results.map((faces, index) => tracker.update(faces, index * 250));
}

test("a one-off low-score detection is never shown", () => {
  const shown = shownAfter(new FaceTracker(), [[face(0.1, 0.1)], [], [], [], [face(0.6, 0.5)], []]);
  assert.deepEqual(shown, [[], [], [], [], [], []]);
});

test("a detection that comes back once only after two misses is not shown either", () => {
  const shown = shownAfter(new FaceTracker(), [[face(0.1, 0.1)], [], [], [face(0.1, 0.1)], []]);
  assert.deepEqual(shown.map((faces) => faces.length), [0, 0, 0, 0, 0]);
});

test("a steady face is shown from its second result, as it was found in it", () => {
  const found = [face(0.3, 0.2), face(0.31, 0.21), face(0.32, 0.2)];
  const shown = shownAfter(new FaceTracker(), found.map((one) => [one]));
  assert.deepEqual(shown, [[], [found[1]], [found[2]]]);
});

test("a face found, missed once and found again is shown: two of its last three results", () => {
  const tracker = new FaceTracker();
  const again = face(0.3, 0.2);
  assert.deepEqual(shownAfter(tracker, [[face(0.3, 0.2)], [], [again]]), [[], [], [again]]);
});

test("a high-score face is shown at once", () => {
  const sure = face(0.3, 0.2, 0.92);
  assert.deepEqual(new FaceTracker().update([sure], 0), [sure]);
  assert.deepEqual(new FaceTracker().update([face(0.3, 0.2, 0.88)], 0), [], "below the bar: wrong detections scored up to 0.88");
  assert.deepEqual(new FaceTracker({ sureScore: 0.85 }).update([face(0.3, 0.2, 0.88)], 0).length, 1, "a bar of one's own");
});

test("a shown face missing once or twice keeps its last box, and is dropped at the third miss", () => {
  const tracker = new FaceTracker();
  const last = face(0.3, 0.2);
  const shown = shownAfter(tracker, [[face(0.3, 0.2)], [last], [], [], []]);
  assert.deepEqual(shown, [[], [last], [last], [last], []]);
  assert.deepEqual(tracker.update([face(0.3, 0.2)], 1250), [], "back after it was dropped: it has to earn its place again");
});

test("two faces are kept apart, each with its own history", () => {
  const tracker = new FaceTracker();
  const left = [face(0.1, 0.3), face(0.11, 0.3), face(0.1, 0.31)];
  const right = [face(0.6, 0.3), face(0.6, 0.3)];
  const shown = shownAfter(tracker, [[left[0]], [left[1], right[0]], [right[1], left[2]]]);
  assert.deepEqual(shown, [[], [left[1]], [right[1], left[2]]]);
});

test("two faces side by side, closer than a box, are still two", () => {
  const tracker = new FaceTracker();
  const pair = () => [face(0.3, 0.3), face(0.45, 0.3)]; // centres 0.75 of a width apart, boxes overlapping
  const shown = shownAfter(tracker, [pair(), pair()]);
  assert.equal(shown[1].length, 2);
  assert.notEqual(shown[1][0].x, shown[1][1].x);
});

test("a face that moves a little between results stays one face", () => {
  const tracker = new FaceTracker();
  const shown = shownAfter(tracker, [[face(0.3, 0.3)], [face(0.38, 0.33)], [face(0.46, 0.36)], [face(0.54, 0.39)]]);
  assert.deepEqual(shown.map((faces) => faces.length), [0, 1, 1, 1]);
});

test("results far apart in time do not add up, and reset forgets every face", () => {
  const tracker = new FaceTracker({ forgetMs: 3000 });
  tracker.update([face(0.3, 0.2)], 0);
  assert.deepEqual(tracker.update([face(0.3, 0.2)], 10_000), [], "a detection ten seconds ago is no evidence now");
  const steady = face(0.3, 0.2);
  assert.deepEqual(tracker.update([steady], 10_250), [steady]);
  tracker.reset();
  assert.deepEqual(tracker.update([face(0.3, 0.2)], 10_500), []);
});
