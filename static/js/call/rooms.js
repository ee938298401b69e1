/** Room names, invite links and what the browser remembers between visits. */

const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/** A random room name such as `k7fq-2mxa-9pzt` (about 59 bits: not guessable). */
export function suggestRoomName() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const letters = Array.from(bytes, (byte) => ALPHABET[byte % ALPHABET.length]).join("");
  return /** @type {RegExpMatchArray} */ (letters.match(/.{4}/g)).join("-"); // 12 letters: three groups
}

/**
 * The server's room-name pattern (ensemble/protocol.py ROOM_NAME), read from the page:
 * the home page's room field carries it as its `pattern`, which HTML also checks with the v flag.
 * @param {ParentNode} [page]
 * @returns {RegExp}
 */
export function roomPattern(page = document) {
  const field = /** @type {HTMLInputElement | null} */ (page.querySelector("input[name=room][pattern]"));
  if (!field) throw new Error("This page has no room field that carries the room-name pattern.");
  return new RegExp(`^(?:${field.pattern})$`, "v");
}

/**
 * The room named by what a person typed: a bare room name or an invite link.
 * @param {string} input
 * @param {RegExp} [pattern] room names, by default as the page carries them
 * @returns {string | null}
 */
export function roomFromInput(input, pattern = roomPattern()) {
  const text = input.trim();
  if (pattern.test(text)) return text;
  try {
    const match = new URL(text, location.origin).pathname.match(/^\/r\/([^/]+)\/?$/);
    const room = match ? decodeURIComponent(match[1]) : "";
    return pattern.test(room) ? room : null;
  } catch {
    return null; // not a URL either: the caller shows the message
  }
}

/** @param {string} room */
export function inviteLink(room) {
  return `${location.origin}/r/${encodeURIComponent(room)}`;
}

export function rememberedName() {
  return localStorage.getItem("ensemble.name") ?? "";
}

/** @param {string} name */
export function rememberName(name) {
  localStorage.setItem("ensemble.name", name);
}

/** A room password lives for this tab only. @param {string} room */
export function rememberedPassword(room) {
  return sessionStorage.getItem(`ensemble.password.${room}`) || null;
}

/** @param {string} room @param {string} password */
export function rememberPassword(room, password) {
  if (password) sessionStorage.setItem(`ensemble.password.${room}`, password);
  else sessionStorage.removeItem(`ensemble.password.${room}`);
}
