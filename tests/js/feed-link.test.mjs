import assert from "node:assert/strict";
import { test } from "node:test";

import { FeedLink } from "/static/js/call/feed-link.js";
import { openSession } from "./fake-janus.mjs";

/**
 * Node has no WebRTC: a connection (and a stream) that never gets an offer stays "new", which is all these
 * tests need of it (a subscription Janus refuses never reaches its connection).
 */
class IdleConnection {
  connectionState = "new";
  remoteDescription = null;
  onicecandidate = null;
  ontrack = null;
  close() {
    this.connectionState = "closed";
  }
  getConfiguration() {
    return {};
  }
  setConfiguration() {}
}

/** What a subscription that never connects does with its stream: holds no track. */
class EmptyStream {
  getTracks() {
    return [];
  }
}

globalThis.RTCPeerConnection = IdleConnection;
globalThis.MediaStream = EmptyStream;

/** Let the link's awaits run. */
async function settle() {
  for (let turn = 0; turn < 5; turn += 1) await Promise.resolve();
}

/** A subscription to Bob's feed (42), started, with what it says written to `seen`. @param {import("node:test").TestContext} t */
async function startedSubscription(t) {
  t.mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  const { socket, session } = await openSession();
  const link = new FeedLink({
    peer: "bob", selfId: "ada", feed: 42, session, room: 7, roomToken: () => "room-token",
    configuration: {}, receiver: null, say: () => {}, videoExpected: () => true,
  });
  /** @type {string[]} */
  const seen = [];
  link.on("error", (failure) => seen.push(`error ${failure.code}`));
  link.on("hangup", () => seen.push("hangup"));
  link.start();
  await settle();
  t.after(() => {
    link.close();
    session.close();
  });
  return { socket, seen };
}

/** Answer the link's attach, then its subscribe with `error` (a VideoRoom error_code). */
async function refuseSubscribe(socket, error) {
  socket.answer({ janus: "success", transaction: socket.last().transaction, data: { id: 5 } });
  await settle();
  const join = socket.last();
  assert.deepEqual([join.janus, join.body.request, join.body.ptype, join.body.streams], ["message", "join", "subscriber", [{ feed: 42 }]]);
  socket.answer({ janus: "event", sender: 5, transaction: join.transaction, plugindata: { data: error } });
  await settle();
}

test("a subscription Janus refuses (not for a missing feed) is reported, then given up 15 s later for a new one", async (t) => {
  const { socket, seen } = await startedSubscription(t);
  await refuseSubscribe(socket, { error_code: 433, error: "Unauthorized (wrong token)" });
  assert.deepEqual(seen, ["error sfu"]);
  t.mock.timers.tick(14_999);
  assert.deepEqual(seen, ["error sfu"]);
  t.mock.timers.tick(1);
  assert.deepEqual(seen, ["error sfu", "hangup"]);
});

test("a feed not published yet is asked for again, for as long as it takes: no hangup while the peer is not up", async (t) => {
  const { socket, seen } = await startedSubscription(t);
  await refuseSubscribe(socket, { error_code: 428, error: "No such feed" });
  for (let asked = 0; asked < 60; asked += 1) { // 30 s of "no such feed"
    t.mock.timers.tick(500);
    await settle();
    const join = socket.last();
    assert.equal(join.body.request, "join");
    socket.answer({ janus: "event", sender: 5, transaction: join.transaction, plugindata: { data: { error_code: 428, error: "No such feed" } } });
    await settle();
  }
  assert.deepEqual(seen, []);
});
