import assert from "node:assert/strict";
import { test } from "node:test";

import { LinkQuality, rateQuality } from "/static/js/call/link-quality.js";

test("a link's quality, as the tile's badge shows it, from round-trip time and packet loss", () => {
  const cases = [
    [0.05, 0, "good"],
    [0.149, 1.9, "good"],
    [0.15, 0, "fair"], // 150 ms round trip: noticeable in conversation
    [0.05, 2, "fair"], // 2 % loss: audible
    [0.399, 7.9, "fair"],
    [0.4, 0, "poor"],
    [0.05, 8, "poor"],
    [1.2, 30, "poor"],
  ];
  for (const [rtt, loss, quality] of cases) assert.equal(rateQuality(rtt, loss, "connected"), quality, `${rtt} s, ${loss} %`);
});

test("without a connection or a measured round trip the quality is unknown", () => {
  for (const state of ["new", "connecting", "disconnected", "failed", "closed"]) assert.equal(rateQuality(0.05, 0, state), "unknown", state);
  assert.equal(rateQuality(null, 0, "connected"), "unknown");
});

/** A connection whose statistics are the test's, as getStats reports them (a map of id to stat). */
function connection(state = "connected") {
  const pc = { connectionState: state, stats: [], getStats: async () => new Map(pc.stats.map((stat) => [stat.id, stat])) };
  return pc;
}

/** The stats of a route chosen by the transport, over `local` and `remote` candidates of the given types. */
function route(rttSeconds, local = "host", remote = "host") {
  return [
    { id: "T", type: "transport", selectedCandidatePairId: "P" },
    { id: "P", type: "candidate-pair", localCandidateId: "L", remoteCandidateId: "R", currentRoundTripTime: rttSeconds },
    { id: "L", type: "local-candidate", candidateType: local },
    { id: "R", type: "remote-candidate", candidateType: remote },
  ];
}

test("a link's report: round trip, route, and video frames from the statistics", async () => {
  const pc = connection();
  pc.stats = [
    ...route(0.0424, "relay"),
    { id: "A", type: "inbound-rtp", kind: "audio", packetsLost: 0, packetsReceived: 500 },
    { id: "V", type: "inbound-rtp", kind: "video", packetsLost: 0, packetsReceived: 900, framesPerSecond: 24, framesDecoded: 720, keyFramesDecoded: 3, pliCount: 2, firCount: 1, frameHeight: 240 },
  ];
  assert.deepEqual(await new LinkQuality(pc).read(), {
    quality: "good", rttMs: 42, lossPercent: 0, fps: 24, framesDecoded: 720, keyFramesDecoded: 3, keyFramesAsked: 3, frameHeight: 240, relayed: true,
  });
});

test("packet loss is counted since the last report, not since the start", async () => {
  const pc = connection();
  const quality = new LinkQuality(pc);
  pc.stats = [...route(0.05), { id: "V", type: "inbound-rtp", kind: "video", packetsLost: 10, packetsReceived: 90 }];
  assert.equal((await quality.read()).lossPercent, 10);
  pc.stats = [...route(0.05), { id: "V", type: "inbound-rtp", kind: "video", packetsLost: 11, packetsReceived: 389 }];
  const second = await quality.read();
  assert.equal(second.lossPercent, 0.3); // 1 lost of 300 since
  assert.equal(second.quality, "good");
});

test("before a route is chosen: no round trip, relayed unknown; without the transport's word the last working pair", async () => {
  const pc = connection("connecting");
  assert.deepEqual(await new LinkQuality(pc).read(), {
    quality: "unknown", rttMs: null, lossPercent: 0, fps: 0, framesDecoded: 0, keyFramesDecoded: 0, keyFramesAsked: 0, frameHeight: 0, relayed: null,
  });
  pc.stats = [
    { id: "P1", type: "candidate-pair", nominated: true, state: "succeeded", localCandidateId: "L1", remoteCandidateId: "R", currentRoundTripTime: 0.3 },
    { id: "P2", type: "candidate-pair", nominated: true, state: "succeeded", localCandidateId: "L2", remoteCandidateId: "R", currentRoundTripTime: 0.1 },
    { id: "P3", type: "candidate-pair", nominated: false, state: "succeeded", localCandidateId: "L1", remoteCandidateId: "R", currentRoundTripTime: 0.9 },
    { id: "L1", type: "local-candidate", candidateType: "host" },
    { id: "L2", type: "local-candidate", candidateType: "relay" },
    { id: "R", type: "remote-candidate", candidateType: "srflx" },
  ];
  const quality = new LinkQuality(pc);
  const report = await quality.read();
  assert.equal(report.rttMs, 100);
  assert.equal(report.relayed, true);
  assert.equal(await quality.sentThroughOwnRelay(), true);
});

test("media relayed only by the other side's TURN server is not sent through our own relay", async () => {
  const pc = connection();
  pc.stats = route(0.05, "srflx", "relay");
  const quality = new LinkQuality(pc);
  assert.equal((await quality.read()).relayed, true);
  assert.equal(await quality.sentThroughOwnRelay(), false);
});
