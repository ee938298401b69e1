import assert from "node:assert/strict";
import { test } from "node:test";

import { rateQuality } from "/static/js/call/peer.js";

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
