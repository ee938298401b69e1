import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULT_SCENE, withParticipant } from "/static/js/scene/layout.js";
import { SceneSync } from "/static/js/scene/sync.js";
import { settled } from "./clock.mjs";

/**
 * The server's side of `scene` edits, as SceneSync's `send` sees it: each call waits
 * until the test answers it with `confirm()` or `refuse()`.
 */
class FakeServer {
  /** @type {{scene: object, version: number, answer: (reply: {version: number}) => void, fail: (error: Error) => void}[]} */
  calls = [];

  send = (scene, version) =>
    new Promise((answer, fail) => {
      this.calls.push({ scene: structuredClone(scene), version, answer, fail });
    });

  get last() {
    return this.calls.at(-1);
  }

  /** Store the last edit as the next version. */
  async confirm() {
    this.last.answer({ ok: true, version: this.last.version + 1 });
    await settled();
  }

  /** Refuse the last edit with a protocol error code (and, for a conflict, the current scene). */
  async refuse(code, reply = {}) {
    this.last.fail(Object.assign(new Error(`refused: ${code}`), { code, reply }));
    await settled();
  }
}

/** A SceneSync on a fake server, with every `change` and `error` event it emits. */
function sceneSync() {
  const server = new FakeServer();
  const sync = new SceneSync(server.send);
  const changes = [];
  const refusals = [];
  sync.on("change", (scene, { by }) => changes.push({ scene, by }));
  sync.on("error", (error) => refusals.push(error));
  return { server, sync, changes, refusals };
}

const place = (name, x) => (scene) => withParticipant(scene, name, { x, y: 0.2, scale: 0.3 });
const xOf = (scene, name) => scene.participants.find((entry) => entry.name === name)?.x;

test("an edit shows at once and goes to the server based on the last version it confirmed", async () => {
  const { server, sync, changes } = sceneSync();
  sync.receive({ scene: { arrange: "grid", participants: [] }, version: 4, by: "Bea" });
  sync.edit(place("Ada", 0.1));
  assert.equal(xOf(sync.scene, "Ada"), 0.1);
  assert.deepEqual(changes.map(({ by }) => by), ["Bea", "self"]);
  assert.equal(server.calls.length, 1);
  assert.deepEqual([server.last.version, server.last.scene.arrange, xOf(server.last.scene, "Ada")], [4, "grid", 0.1]);
  await server.confirm();
  assert.equal(sync.version, 5);
  assert.equal(xOf(sync.scene, "Ada"), 0.1);
});

test("a room without a scene starts from the default one, which no edit changes", async () => {
  const { server, sync } = sceneSync();
  const before = structuredClone(DEFAULT_SCENE);
  sync.edit((scene) => {
    scene.canvas.width = 640; // an edit that changes its input in place
    return scene;
  });
  assert.deepEqual([server.last.version, server.last.scene.canvas.width], [0, 640]);
  assert.deepEqual(structuredClone(DEFAULT_SCENE), before);
});

test("edits made while one is on its way go together in the next send, each building on the one before", async () => {
  const { server, sync } = sceneSync();
  sync.edit(place("Ada", 0.1));
  sync.edit(place("Bea", 0.5));
  sync.edit((scene) => withParticipant(scene, "Bea", { z: 2 }));
  assert.equal(server.calls.length, 1, "one send at a time");
  assert.deepEqual([xOf(sync.scene, "Ada"), xOf(sync.scene, "Bea")], [0.1, 0.5], "all three show at once");
  await server.confirm();
  assert.equal(server.calls.length, 2);
  assert.equal(server.last.version, 1);
  assert.deepEqual(server.last.scene.participants, [
    { name: "Ada", x: 0.1, y: 0.2, scale: 0.3 },
    { name: "Bea", x: 0.5, y: 0.2, scale: 0.3, z: 2 },
  ]);
  await server.confirm();
  assert.equal(server.calls.length, 2, "nothing left to send");
  assert.equal(sync.version, 2);
});

test("on a version conflict the edit is applied again to the newer scene: both people keep their move", async () => {
  const { server, sync, refusals } = sceneSync();
  sync.receive({ scene: { participants: [] }, version: 1, by: null });
  sync.edit(place("Ada", 0.1)); // Ada drags herself…
  const theirs = { participants: [{ name: "Bea", x: 0.6, y: 0.3, scale: 0.35 }] }; // …while Bea's drag came first
  await server.refuse("version_conflict", { scene: theirs, version: 2 });
  assert.equal(server.calls.length, 2);
  assert.equal(server.last.version, 2);
  assert.deepEqual([xOf(server.last.scene, "Bea"), xOf(server.last.scene, "Ada")], [0.6, 0.1]);
  assert.deepEqual([xOf(sync.scene, "Bea"), xOf(sync.scene, "Ada")], [0.6, 0.1], "shown meanwhile too");
  await server.confirm();
  assert.equal(sync.version, 3);
  assert.deepEqual([xOf(sync.scene, "Bea"), xOf(sync.scene, "Ada")], [0.6, 0.1]);
  assert.deepEqual(refusals, []);
});

test("after three conflicts in a row the edit is given up: it is refused and the room's scene shows again", async () => {
  const { server, sync, changes, refusals } = sceneSync();
  sync.edit(place("Ada", 0.1));
  for (let version = 1; version <= 4; version += 1) {
    await server.refuse("version_conflict", { scene: { arrange: "grid", participants: [{ name: "Bea", x: version / 10 }] }, version });
  }
  assert.equal(server.calls.length, 4, "the first try and three more");
  assert.deepEqual(refusals.map((error) => error.code), ["version_conflict"]);
  assert.equal(xOf(sync.scene, "Ada"), undefined, "my edit is gone");
  // The room's scene as the last conflict said it is, without waiting for its `scene` event.
  assert.deepEqual([xOf(sync.scene, "Bea"), sync.version, sync.scene.arrange], [0.4, 4, "grid"]);
  assert.deepEqual(changes.at(-1), { scene: sync.scene, by: null });
});

test("an edit the server refuses is dropped and the room's scene shows again; the next edit goes out as usual", async () => {
  const { server, sync, changes, refusals } = sceneSync();
  sync.receive({ scene: { arrange: "row" }, version: 3, by: "Bea" });
  sync.edit((scene) => ({ ...scene, arrange: "circle" }));
  assert.equal(sync.scene.arrange, "circle");
  await server.refuse("bad_request");
  assert.deepEqual(refusals.map((error) => error.code), ["bad_request"]);
  assert.deepEqual(changes.at(-1), { scene: { arrange: "row" }, by: null });
  assert.equal(server.calls.length, 1, "not sent again");

  sync.edit((scene) => ({ ...scene, arrange: "grid" }));
  assert.deepEqual([server.last.version, server.last.scene], [3, { arrange: "grid" }]);
});

test("someone else's edit shows, an older one arriving late does not", () => {
  const { sync, changes } = sceneSync();
  sync.receive({ scene: { arrange: "grid" }, version: 2, by: "Bea" });
  sync.receive({ scene: { arrange: "none" }, version: 1, by: "Cy" });
  assert.deepEqual([sync.scene, sync.version], [{ arrange: "grid" }, 2]);
  assert.deepEqual(changes, [{ scene: { arrange: "grid" }, by: "Bea" }]);
});

test("my unconfirmed edit stays on show on top of someone else's newer scene", async () => {
  const { server, sync } = sceneSync();
  sync.edit(place("Ada", 0.1));
  sync.receive({ scene: { arrange: "grid", participants: [] }, version: 1, by: "Bea" });
  assert.deepEqual([sync.scene.arrange, xOf(sync.scene, "Ada")], ["grid", 0.1]);
  // My send (based on version 0) then conflicts and goes again on top of Bea's.
  await server.refuse("version_conflict", { scene: { arrange: "grid", participants: [] }, version: 1 });
  assert.deepEqual([server.last.version, server.last.scene.arrange, xOf(server.last.scene, "Ada")], [1, "grid", 0.1]);
});

test("a newer scene that arrived while my edit was on its way is kept", async () => {
  const { server, sync } = sceneSync();
  sync.receive({ scene: { arrange: "row" }, version: 1, by: null });
  sync.edit((scene) => ({ ...scene, arrange: "grid" })); // stored as version 2…
  sync.receive({ scene: { arrange: "none" }, version: 3, by: "Bea" }); // …and Bea's came on top before the reply
  await server.confirm();
  assert.deepEqual([sync.scene, sync.version], [{ arrange: "none" }, 3]);
});

test("a private view is edited in this browser only; switching back shows the room's scene, with what changed meanwhile", async () => {
  const { server, sync, changes } = sceneSync();
  sync.receive({ scene: { arrange: "row" }, version: 1, by: null });
  sync.setPrivate(true);
  assert.equal(sync.isPrivate, true);
  sync.edit((scene) => ({ ...scene, background: { color: "#ff8800" } }));
  assert.deepEqual(sync.scene, { arrange: "row", background: { color: "#ff8800" } });
  assert.equal(server.calls.length, 0);
  const shown = changes.length;
  sync.receive({ scene: { arrange: "grid" }, version: 2, by: "Bea" });
  assert.equal(changes.length, shown, "the room's changes do not show in the private view");
  assert.equal(sync.scene.arrange, "row");
  sync.setPrivate(false);
  assert.deepEqual(sync.scene, { arrange: "grid" });
  assert.deepEqual(changes.at(-1), { scene: { arrange: "grid" }, by: "self" });
  sync.setPrivate(false); // already off: nothing happens
  assert.equal(changes.length, shown + 1);
});

test("after a server restart (version 0 on joining again) this browser gives the room its scene back", async () => {
  const { server, sync } = sceneSync();
  sync.receive({ scene: { arrange: "grid" }, version: 7, by: "Bea" });
  sync.joined({ scene: null, version: 0, by: null });
  assert.deepEqual([server.last.scene, server.last.version], [{ arrange: "grid" }, 0]);
  await server.confirm();
  assert.deepEqual([sync.scene, sync.version], [{ arrange: "grid" }, 1]);
});

test("joining a room that has a scene takes it as it is, and sends nothing", () => {
  const { server, sync } = sceneSync();
  sync.receive({ scene: { arrange: "grid" }, version: 7, by: "Bea" });
  sync.joined({ scene: { arrange: "none" }, version: 2, by: "Cy" });
  assert.deepEqual([sync.scene, sync.version], [{ arrange: "none" }, 2]);
  assert.equal(server.calls.length, 0);
});

test("leaving the room forgets its scene", () => {
  const { sync } = sceneSync();
  sync.receive({ scene: { arrange: "grid" }, version: 7, by: "Bea" });
  sync.reset();
  assert.deepEqual([sync.scene, sync.version], [structuredClone(DEFAULT_SCENE), 0]);
});
