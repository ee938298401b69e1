import assert from "node:assert/strict";
import { test } from "node:test";

import { Greeting } from "/static/js/call/greeting.js";
import { JanusError, KEEPALIVE_MS } from "/static/js/call/janus.js";
import { openSession } from "./fake-janus.mjs";

test("every request carries the token, and a renewed token is used from then on", async () => {
  const { socket, session } = await openSession();
  assert.equal(socket.sent[0].janus, "create");
  assert.equal(socket.sent[0].token, "core-1");
  assert.equal(session.id, 77);
  const attached = session.attach();
  socket.answer({ janus: "success", transaction: socket.last().transaction, data: { id: 5 } });
  assert.equal(await attached, 5);
  session.setToken("core-2");
  session.trickle(5, null);
  assert.deepEqual({ ...socket.last(), transaction: "" }, { janus: "trickle", session_id: 77, handle_id: 5, candidate: { completed: true }, transaction: "", token: "core-2" });
  session.close();
});

test("a plugin message waits past Janus's ack for the event answering it; an error_code rejects with Janus's code", async () => {
  const { socket, session } = await openSession();
  const joined = session.message(5, { request: "join" });
  const { transaction } = socket.last();
  let settled = false;
  joined.then(() => (settled = true), () => (settled = true));
  socket.answer({ janus: "ack", transaction });
  await Promise.resolve();
  assert.equal(settled, false);
  socket.answer({ janus: "event", sender: 5, transaction, plugindata: { data: { videoroom: "attached" } }, jsep: { type: "offer", sdp: "v=0" } });
  assert.deepEqual(await joined, { data: { videoroom: "attached" }, jsep: { type: "offer", sdp: "v=0" } });

  const refused = session.message(5, { request: "join" });
  socket.answer({ janus: "event", sender: 5, transaction: socket.last().transaction, plugindata: { data: { error_code: 428, error: "No such feed" } } });
  await assert.rejects(refused, (error) => error instanceof JanusError && error.status === 428 && error.code === "sfu");
  session.close();
});

test("what Janus pushes for a handle is an event; a closed socket rejects what waits and says closed once", async () => {
  const { socket, session } = await openSession();
  const pushed = [];
  const closed = [];
  session.on("event", (handle, message) => pushed.push([handle, message.janus]));
  session.on("closed", (failure) => closed.push(failure.code));
  socket.answer({ janus: "hangup", sender: 9, reason: "DTLS alert" });
  socket.answer("not json at all");
  assert.deepEqual(pushed, [[9, "hangup"]]);
  const waiting = session.attach();
  socket.onclose?.({});
  await assert.rejects(waiting, (error) => error.code === "sfu");
  assert.deepEqual(closed, ["sfu"]);
});

test("a keep-alive goes every 25 seconds and is answered by its ack", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  const { socket, session } = await openSession();
  t.mock.timers.tick(KEEPALIVE_MS - 1);
  assert.equal(socket.sent.filter((message) => message.janus === "keepalive").length, 0);
  t.mock.timers.tick(KEEPALIVE_MS + 1);
  const keepalives = socket.sent.filter((message) => message.janus === "keepalive");
  assert.equal(keepalives.length, 2);
  assert.deepEqual(keepalives.map((message) => [message.session_id, message.token]), [[77, "core-1"], [77, "core-1"]]);
  session.close();
  assert.equal(socket.last().janus, "destroy");
});

test("a greeting opens when the peer's hello arrives, answers a hello that has not heard us, and stops once answered", () => {
  const said = [];
  let opened = 0;
  const greeting = new Greeting((hello) => said.push(hello), () => (opened += 1));
  greeting.tick(); // lost: the peer is not subscribed to us yet
  assert.equal(greeting.open, false);
  greeting.heard({ heard: false });
  assert.equal(greeting.open, true);
  assert.equal(opened, 1);
  assert.deepEqual(said, [{ heard: false }, { heard: true }]);
  assert.equal(greeting.pending, true);
  greeting.tick();
  greeting.heard({ heard: true });
  assert.equal(greeting.pending, false);
  greeting.tick();
  assert.deepEqual(said, [{ heard: false }, { heard: true }, { heard: true }]);
  assert.equal(opened, 1);
  greeting.heard("junk");
  assert.equal(opened, 1);
});
