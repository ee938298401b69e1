import assert from "node:assert/strict";
import { test } from "node:test";

import { Emitter } from "/static/js/lib/emitter.js";
import { Failure } from "/static/js/lib/failure.js";
import { RoomSession } from "/static/js/call/session.js";
import { fakeClock, settled } from "./clock.mjs";

/**
 * The server link as RoomSession sees it: `connect`, `request` and its events. Each join
 * is answered from `answers` (a Failure code, or nothing for a welcome), each
 * `ice-servers` from `iceAnswers` the same way; `leave` and `media` always succeed.
 * A join reply says to renew its ICE servers after `renewSeconds`.
 */
class FakeSignaling extends Emitter {
  everConnected = true;
  /** @type {Array<string | null>} */
  answers = [];
  /** @type {Array<{event: string, payload: any}>} */
  sent = [];
  /** @type {Array<string | null>} */
  iceAnswers = [];
  joins = 0;
  renewals = 0;
  /** @type {number | null} */
  renewSeconds = null;

  async connect() {}

  async request(event, payload) {
    this.sent.push({ event, payload });
    if (event === "ice-servers") {
      this.renewals += 1;
      const code = this.iceAnswers.shift() ?? null;
      if (code) throw new Failure(/** @type {any} */ (code));
      return { ok: true, iceServers: [{ urls: "turn:t", username: `renewal-${this.renewals}` }], iceRenewSeconds: this.renewSeconds };
    }
    if (event !== "join") return { ok: true };
    this.joins += 1;
    const code = this.answers.shift() ?? null;
    if (code) throw new Failure(/** @type {any} */ (code));
    return {
      ...{ ok: true, id: `id-${this.joins}`, token: `token-${this.joins}`, name: payload.name, room: payload.room, peers: [] },
      ...{ iceServers: [{ urls: "turn:t", username: `join-${this.joins}` }], iceRenewSeconds: this.renewSeconds },
    };
  }
}

/** The mesh as RoomSession sees it: started with each membership, reset on leaving. */
class FakeMesh {
  started = [];
  resets = 0;
  /** @type {string[]} the TURN username of each renewal handed to the links */
  renewed = [];
  renewIceServers(servers) {
    this.renewed.push(servers[0].username);
  }
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

test("a membership taken over by another page ends this one's: it leaves, says why, and joins nothing by itself", async () => {
  const { signaling, room, mesh } = session();
  const reasons = [];
  room.on("left", (reason) => reasons.push(reason));
  await room.join(ADA);
  signaling.emit("replaced", {});
  assert.equal(room.joined, false);
  assert.equal(mesh.resets, 1);
  assert.deepEqual(reasons, ["replaced"]);
  assert.equal(signaling.sent.filter(({ event }) => event === "leave").length, 0, "the server has already taken it out");
  signaling.emit("reconnected");
  await settled();
  assert.equal(signaling.joins, 1, "no rejoin takes the membership back from the page that has it now");
  await room.retry();
  assert.equal(signaling.sent.at(-1).payload.resume, undefined, "Rejoin asks for a membership of its own");
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

test("time-limited TURN credentials are renewed when the join reply says, and again when each renewal says", async (t) => {
  const clock = fakeClock(t);
  const { signaling, mesh, room } = session();
  signaling.renewSeconds = 2;
  await room.join(ADA);
  await clock.advance(1999);
  assert.equal(signaling.renewals, 0, "not before the time the reply gave");
  await clock.advance(1);
  assert.deepEqual(mesh.renewed, ["renewal-1"]);
  await clock.advance(2000);
  assert.deepEqual(mesh.renewed, ["renewal-1", "renewal-2"]);
});

test("credentials that do not expire are never asked for again", async (t) => {
  const clock = fakeClock(t);
  const { signaling, room } = session();
  await room.join(ADA);
  await clock.advance(5000);
  assert.equal(signaling.renewals, 0);
});

test("a renewal that did not work is tried again half a minute later, keeping the credentials it had", async (t) => {
  const clock = fakeClock(t);
  const { signaling, mesh, room } = session();
  signaling.renewSeconds = 1;
  signaling.iceAnswers = ["unreachable"];
  await room.join(ADA);
  await clock.advance(1000);
  assert.equal(signaling.renewals, 1);
  assert.deepEqual(mesh.renewed, []);
  await clock.advance(29_999);
  assert.equal(signaling.renewals, 1, "not before half a minute");
  await clock.advance(1);
  assert.deepEqual(mesh.renewed, ["renewal-2"]);
});

test("leaving or joining again stops the old membership's renewals", async (t) => {
  const clock = fakeClock(t);
  const { signaling, mesh, room } = session();
  signaling.renewSeconds = 1;
  await room.join(ADA);
  await room.leave();
  await clock.advance(3000);
  assert.equal(signaling.renewals, 0, "none after leaving");
  await room.join(ADA);
  await clock.advance(500);
  signaling.emit("reconnected"); // a rejoin half-way: its own reply starts the count again
  await settled();
  await clock.advance(999);
  assert.equal(signaling.renewals, 0, "the first membership's timer is gone");
  await clock.advance(1);
  assert.deepEqual(mesh.renewed, ["renewal-1"]);
});
