import assert from "node:assert/strict";
import { test } from "node:test";

import { IceWatchdog } from "/static/js/call/ice-watchdog.js";
import { fakeClock } from "./clock.mjs";

const TURN = [{ urls: ["stun:relay.example:3478", "turn:relay.example:3478?transport=udp"] }, { urls: "turns:relay.example:5349" }];

/** A watchdog over a link whose state the test sets, recording what it was told to do. */
function watched(t, { iceServers = [], state = "new" } = {}) {
  const clock = fakeClock(t);
  const link = { state, restarts: [], reports: [] };
  const watchdog = new IceWatchdog({
    iceServers,
    state: () => link.state,
    restart: () => link.restarts.push(clock.now),
    relayUnusable: (report) => link.reports.push(report),
  });
  return { clock, link, watchdog };
}

test("a link still new after five seconds restarts ICE, and again every five seconds while it stays so", async (t) => {
  const { clock, link } = watched(t);
  await clock.advance(4999);
  assert.deepEqual(link.restarts, []);
  await clock.advance(10_001);
  assert.deepEqual(link.restarts, [5000, 10_000, 15_000]);
});

test("a failed connection restarts ICE at once, and nothing more follows", async (t) => {
  const { clock, link, watchdog } = watched(t);
  await clock.advance(1000);
  link.state = "failed";
  watchdog.stateChanged("failed");
  assert.deepEqual(link.restarts, [1000]);
  await clock.advance(20_000);
  assert.deepEqual(link.restarts, [1000]);
});

test("connecting is progress: left alone however long it takes", async (t) => {
  const { clock, link, watchdog } = watched(t);
  await clock.advance(1000);
  link.state = "connecting";
  watchdog.stateChanged("connecting");
  await clock.advance(30_000);
  assert.deepEqual(link.restarts, []);
});

test("a disconnected link gets five seconds to come back before ICE restarts", async (t) => {
  const { clock, link, watchdog } = watched(t, { state: "connected" });
  watchdog.stateChanged("connected");
  await clock.advance(1000);
  link.state = "disconnected";
  watchdog.stateChanged("disconnected");
  await clock.advance(3000);
  link.state = "connected"; // back by itself
  watchdog.stateChanged("connected");
  await clock.advance(10_000);
  assert.deepEqual(link.restarts, []);
  link.state = "disconnected";
  watchdog.stateChanged("disconnected");
  await clock.advance(5000);
  assert.deepEqual(link.restarts, [19_000]);
});

test("a closed link restarts nothing", async (t) => {
  const closed = watched(t);
  closed.link.state = "closed";
  await closed.clock.advance(6000);
  assert.deepEqual(closed.link.restarts, []);
});

test("a stopped watchdog restarts nothing", async (t) => {
  const { clock, link, watchdog } = watched(t);
  watchdog.stop();
  await clock.advance(20_000);
  assert.deepEqual(link.restarts, []);
});

test("no relay address and no answer from the TURN server: said once, naming the first TURN URL", async (t) => {
  const { clock, link } = watched(t, { iceServers: TURN });
  await clock.advance(15_000);
  assert.deepEqual(link.reports, [{ url: "turn:relay.example:3478?transport=udp", problem: "did not answer" }]);
  assert.equal(link.restarts.length, 3);
});

test("a TURN server that refused us is named with its answer; a STUN server's error is not the relay's", async (t) => {
  const { clock, link, watchdog } = watched(t, { iceServers: TURN });
  watchdog.candidateError({ url: "turns:relay.example:5349", errorCode: 401, errorText: "Unauthorized." });
  watchdog.candidateError({ url: "stun:relay.example:3478", errorCode: 701, errorText: "STUN host lookup received error." });
  await clock.advance(5000);
  assert.deepEqual(link.reports, [{ url: "turns:relay.example:5349", problem: "answered “401 Unauthorized”" }]);
});

test("nothing is said about the relay once it gave an address", async (t) => {
  const gathered = watched(t, { iceServers: TURN });
  gathered.watchdog.candidateGathered({ type: "host" });
  gathered.watchdog.candidateGathered({ type: "relay" });
  await gathered.clock.advance(5000);
  assert.deepEqual(gathered.link.reports, []);
  assert.deepEqual(gathered.link.restarts, [5000]);
});

test("without a TURN server there is no relay to diagnose", async (t) => {
  const { clock, link } = watched(t, { iceServers: [{ urls: "stun:relay.example:3478" }] });
  await clock.advance(5000);
  assert.deepEqual(link.reports, []);
  assert.deepEqual(link.restarts, [5000]);
});

test("renewed ICE servers are the ones named from then on", async (t) => {
  const { clock, link, watchdog } = watched(t);
  watchdog.setIceServers([{ urls: "turn:other.example:3478" }]);
  await clock.advance(5000);
  assert.deepEqual(link.reports, [{ url: "turn:other.example:3478", problem: "did not answer" }]);
});
