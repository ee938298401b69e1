/**
 * Janus's side of a JanusSession, for node tests: the outermost boundary only, a socket that
 * records what the session sends and lets the test answer as Janus would.
 */
import { JanusSession } from "/static/js/call/janus.js";

export function fakeSocket() {
  const socket = {
    readyState: 0,
    /** @type {any[]} */ sent: [],
    onopen: null, onclose: null, onerror: null, onmessage: null,
    send(text) { this.sent.push(JSON.parse(text)); },
    close() { this.readyState = 3; },
    open() { this.readyState = 1; this.onopen?.({}); },
    answer(message) { this.onmessage?.({ data: JSON.stringify(message) }); },
    last() { return this.sent.at(-1); },
  };
  return socket;
}

/** A session Janus has created (id 77), on a fake socket. */
export async function openSession(token = "core-1") {
  const socket = fakeSocket();
  const session = new JanusSession({ url: "ws://janus.test", token, createSocket: () => socket });
  const opened = session.open();
  socket.open();
  await Promise.resolve();
  const create = socket.last();
  socket.answer({ janus: "success", transaction: create.transaction, data: { id: 77 } });
  await opened;
  return { socket, session };
}
