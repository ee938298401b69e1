import assert from "node:assert/strict";
import { test } from "node:test";

import { Emitter } from "/static/js/emitter.js";
import { Failure } from "/static/js/failure.js";
import { RoomSession } from "/static/js/session.js";
import { fakeClock, settled } from "./clock.mjs";

/**
 * The server link as RoomSession sees it: `connect`, `request` and its events. Each join
 * is answered from `answers` (a Failure code, or nothing for a welcome); `leave` and
 * `media` always succeed.
 */
class FakeSignaling extends Emitter {
  everConnected = true;
  /** @type {Array<string | null>} */
  answers = [];
  /** @type {Array<{event: string, payload: any}>} */
  sent = [];
  joins = 0;

  async connect() {}

  async request(event, payload) {
    this.sent.push({ event, payload });
    if (event !== "join") return { ok: true };
    this.joins += 1;
    const code = this.answers.shift() ?? null;
    if (code) throw new Failure(/** @type {any} */ (code));
    return { ok: true, id: `id-${this.joins}`, token: `token-${this.joins}`, name: payload.name, room: payload.room, peers: [], iceServers: [] };
  }
}

/** The mesh as RoomSession sees it: started with each membership, reset on leaving. */
class FakeMesh {
  started = [];
  resets = 0;
  start(selfId) {
    this.started.push(selfId);
  }
  reset() {
    this.resets += 1;
  }
  peers() {
    return [];
  }
}

function session() {
  const signaling = new FakeSignaling();
  const mesh = new FakeMesh();
  const room = new RoomSession({ room: "standup", signaling: /** @type {any} */ (signaling), mesh: /** @type {any} */ (mesh) });
  const events = [];
  room.on("joined", (reply) => events.push(["joined", reply.id]));
  room.on("error", (failure, { retrying }) => events.push(["error", failure.code, retrying]));
  room.on("left", () => events.push(["left"]));
  return { signaling, mesh, room, events };
}

const ADA = { name: "Ada", password: null, media: { audio: true, video: false } };

test("a join starts the mesh with the new membership and says who we are", async () => {
  const { signaling, mesh, room, events } = session();
  assert.equal(await room.join(ADA), true);
  assert.deepEqual(room.self, { id: "id-1", name: "Ada" });
  assert.deepEqual(mesh.started, ["id-1"]);
  assert.deepEqual(events, [["joined", "id-1"]]);
  assert.deepEqual(signaling.sent[0].payload, { room: "standup", name: "Ada", media: { audio: true, video: false } });
});

test("a server that cannot reach its room store is asked again after two seconds, by itself", async (t) => {
  const clock = fakeClock(t);
  const { signaling, room, events } = session();
  signaling.answers = ["unavailable", "unavailable"];
  assert.equal(await room.join(ADA), false);
  assert.deepEqual(events, [["error", "unavailable", true]]);
  await clock.advance(1999);
  assert.equal(signaling.joins, 1, "not before two seconds");
  await clock.until(() => room.joined);
  assert.equal(signaling.joins, 3);
  assert.deepEqual(events.at(-1), ["joined", "id-3"]);
});

test("a refusal is final: nothing is tried again until the person asks", async (t) => {
  const clock = fakeClock(t);
  const { signaling, room, events } = session();
  signaling.answers = ["room_full"];
  await room.join(ADA);
  await clock.advance(10_000);
  signaling.emit("reconnected");
  await settled();
  assert.equal(signaling.joins, 1);
  assert.deepEqual(events, [["error", "room_full", false]]);
  assert.equal(await room.retry(), true, "Try again joins with the same request");
  assert.equal(signaling.sent.at(-1).payload.name, "Ada");
});

test("when the link comes back the session joins again, taking over its old membership by its token", async () => {
  const { signaling, room, mesh } = session();
  signaling.answers = [null, null];
  await room.join(ADA);
  signaling.emit("reconnected");
  await settled();
  assert.deepEqual(room.self, { id: "id-2", name: "Ada" });
  assert.deepEqual(signaling.sent.at(-1).payload.resume, { id: "id-1", token: "token-1" });
  assert.deepEqual(mesh.started, ["id-1", "id-2"]);
});

test("after leaving, a reconnection joins nothing and a rejoin starts afresh with the last request", async () => {
  const { signaling, room, mesh, events } = session();
  await room.join(ADA);
  await room.sendMedia({ audio: false, video: true });
  await room.leave();
  assert.equal(room.joined, false);
  assert.equal(mesh.resets, 1);
  signaling.emit("reconnected");
  await settled();
  assert.equal(signaling.joins, 1);
  assert.deepEqual(room.request, { name: "Ada", password: null, media: { audio: false, video: true, screen: false } });
  await room.retry();
  assert.equal(signaling.sent.at(-1).payload.resume, undefined, "a new membership, nothing to take over");
  assert.deepEqual(events.map(([name]) => name), ["joined", "left", "joined"]);
});

test("a screen shared across a rejoin is said to the room right after the join", async () => {
  const { signaling, room } = session();
  await room.join(ADA);
  await room.sendMedia({ audio: true, video: true, screen: true });
  signaling.emit("reconnected");
  await settled();
  const join = signaling.sent.findLast((sent) => sent.event === "join");
  assert.deepEqual(join?.payload.media, { audio: true, video: true }, "a join carries no screen flag");
  assert.deepEqual(signaling.sent.at(-1), { event: "media", payload: { audio: true, video: true, screen: true } });
});

test("leaving while a retry waits cancels it", async (t) => {
  const clock = fakeClock(t);
  const { signaling, room } = session();
  signaling.answers = ["unavailable"];
  await room.join(ADA);
  await room.leave();
  await clock.advance(5000);
  assert.equal(signaling.joins, 1);
});
