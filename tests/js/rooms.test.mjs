import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

/** The Web Storage API, in memory: Node 20 has neither localStorage nor sessionStorage. */
class MemoryStorage {
  #items = new Map();
  getItem(key) {
    return this.#items.has(key) ? this.#items.get(key) : null;
  }
  setItem(key, value) {
    this.#items.set(key, String(value));
  }
  removeItem(key) {
    this.#items.delete(key);
  }
}

/** The home page as rooms.js reads it: its room field carries the server's pattern (ensemble/protocol.py ROOM_NAME). */
const HOME_PAGE = { querySelector: (selector) => (selector === "input[name=room][pattern]" ? { pattern: "[A-Za-z0-9_\\-]{1,64}" } : null) };

// What the page's globals would be on https://ensemble.example/.
globalThis.location = new URL("https://ensemble.example/");
globalThis.document = HOME_PAGE;
beforeEach(() => {
  globalThis.localStorage = new MemoryStorage();
  globalThis.sessionStorage = new MemoryStorage();
});

const { inviteLink, rememberedName, rememberedPassword, rememberName, rememberPassword, roomFromInput, roomPattern, suggestRoomName } = await import("/static/js/call/rooms.js");

test("room names follow the pattern the page carries, matched whole", () => {
  const pattern = roomPattern(HOME_PAGE);
  assert.ok(pattern.test("team-standup"));
  assert.ok(!pattern.test("team standup"));
  assert.ok(!pattern.test(`x${"a".repeat(64)}`), "anchored: 65 characters are not 64 and one more");
  assert.throws(() => roomPattern({ querySelector: () => null }), /room-name pattern/);
});

test("a suggested room name is three groups of four letters and digits that cannot be misread, and a new one each time", () => {
  const names = Array.from({ length: 200 }, suggestRoomName);
  for (const name of names) {
    assert.match(name, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    assert.doesNotMatch(name, /[01ilo]/, "no 0/o or 1/i/l to confuse");
    assert.equal(roomFromInput(name), name, "the server's room pattern takes it");
  }
  assert.equal(new Set(names).size, names.length);
});

test("a typed room name is taken as it is, spaces around it trimmed", () => {
  for (const name of ["standup", "Team_2-B", "x", "a".repeat(64)]) {
    assert.equal(roomFromInput(name), name);
    assert.equal(roomFromInput(`  ${name}\n`), name);
  }
});

test("an invite link, pasted whole or as its path, names its room", () => {
  assert.equal(roomFromInput("https://ensemble.example/r/team-standup"), "team-standup");
  assert.equal(roomFromInput("https://ensemble.example/r/team-standup/"), "team-standup");
  assert.equal(roomFromInput("http://localhost:5000/r/Team_2?name=Ada"), "Team_2"); // another server's link too
  assert.equal(roomFromInput("/r/abc"), "abc");
  assert.equal(roomFromInput(" https://ensemble.example/r/a%2Db "), "a-b");
});

test("what names no room is refused (docs/protocol.md: 1–64 of A-Z a-z 0-9 _ -)", () => {
  const refused = [
    "",
    "   ",
    "a".repeat(65),
    "two words",
    "café",
    "semi;colon",
    "https://ensemble.example/",
    "https://ensemble.example/r/",
    "https://ensemble.example/r/two%20words",
    "https://ensemble.example/r/a/b",
    "https://ensemble.example/rooms/abc",
    "https://ensemble.example/r/%E0%A4%A", // broken percent-encoding
    `https://ensemble.example/r/${"a".repeat(65)}`,
    "http://[not a url/r/abc",
  ];
  for (const input of refused) assert.equal(roomFromInput(input), null, input);
});

test("an invite link is this site's address of the room, and leads back to it", () => {
  assert.equal(inviteLink("team-standup"), "https://ensemble.example/r/team-standup");
  const room = suggestRoomName();
  assert.equal(roomFromInput(inviteLink(room)), room);
});

test("the name a person gave is remembered for their next visit", () => {
  assert.equal(rememberedName(), "");
  rememberName("Ada Lovelace");
  assert.equal(rememberedName(), "Ada Lovelace");
  assert.equal(localStorage.getItem("ensemble.name"), "Ada Lovelace");
});

test("a room password is remembered per room, in this tab only, and an empty one forgets it", () => {
  assert.equal(rememberedPassword("team"), null);
  rememberPassword("team", "s3cret");
  rememberPassword("other", "different");
  assert.equal(rememberedPassword("team"), "s3cret");
  assert.equal(rememberedPassword("other"), "different");
  assert.equal(localStorage.getItem("ensemble.password.team"), null, "not kept beyond the tab");
  rememberPassword("team", "");
  assert.equal(rememberedPassword("team"), null);
  assert.equal(rememberedPassword("other"), "different");
});
