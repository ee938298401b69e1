import assert from "node:assert/strict";
import { test } from "node:test";

import { Emitter } from "/static/js/lib/emitter.js";

/**
 * The errors that reach the process as uncaught while `action` runs and its microtasks
 * settle. The test runner's own handler (which would fail the file) is set aside meanwhile.
 */
async function uncaughtDuring(action) {
  const runners = process.listeners("uncaughtException");
  const caught = [];
  process.removeAllListeners("uncaughtException");
  process.on("uncaughtException", (error) => caught.push(error));
  try {
    action();
    await new Promise((resolve) => setImmediate(resolve)); // after every microtask
  } finally {
    process.removeAllListeners("uncaughtException");
    for (const listener of runners) process.on("uncaughtException", listener);
  }
  return caught;
}

test("every listener hears an event, with its arguments, in the order they subscribed", () => {
  const emitter = new Emitter();
  const heard = [];
  emitter.on("chat", (name, text) => heard.push(["first", name, text]));
  emitter.on("chat", (name, text) => heard.push(["second", name, text]));
  emitter.on("other", () => heard.push(["other"]));
  emitter.emit("chat", "Ada", "hello");
  assert.deepEqual(heard, [["first", "Ada", "hello"], ["second", "Ada", "hello"]]);
});

test("an unsubscribed listener hears nothing more; the others still do", () => {
  const emitter = new Emitter();
  const heard = [];
  const stop = emitter.on("tick", () => heard.push("stopped"));
  emitter.on("tick", () => heard.push("kept"));
  stop();
  emitter.emit("tick");
  assert.deepEqual(heard, ["kept"]);
  stop(); // twice is harmless
});

test("a listener that unsubscribes another during an event does not disturb that event", () => {
  const emitter = new Emitter();
  const heard = [];
  let stopSecond;
  emitter.on("tick", () => {
    heard.push("first");
    stopSecond();
  });
  stopSecond = emitter.on("tick", () => heard.push("second"));
  emitter.emit("tick");
  emitter.emit("tick");
  assert.deepEqual(heard, ["first", "second", "first"]);
});

test("a listener that throws does not keep the event from the others, and its error still surfaces", async () => {
  const emitter = new Emitter();
  const heard = [];
  const failure = new Error("a broken listener");
  emitter.on("joined", () => heard.push("before"));
  emitter.on("joined", () => {
    throw failure;
  });
  emitter.on("joined", (room) => heard.push(`after ${room}`));
  let returned = false;
  const uncaught = await uncaughtDuring(() => {
    emitter.emit("joined", "team");
    returned = true;
    assert.deepEqual(heard, ["before", "after team"]); // at once, before the error surfaces
  });
  assert.ok(returned, "emit itself does not throw");
  assert.deepEqual(uncaught, [failure]); // the same error, once
});

test("removeAllListeners silences every event", () => {
  const emitter = new Emitter();
  const heard = [];
  emitter.on("a", () => heard.push("a"));
  emitter.on("b", () => heard.push("b"));
  emitter.removeAllListeners();
  emitter.emit("a");
  emitter.emit("b");
  assert.deepEqual(heard, []);
});
