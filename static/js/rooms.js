/** Room names, invite links and what the browser remembers between visits. */

export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/** A random room name such as `k7fq-2mxa-9pzt` (about 59 bits: not guessable). */
export function suggestRoomName() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const letters = Array.from(bytes, (byte) => ALPHABET[byte % ALPHABET.length]).join("");
  return letters.match(/.{4}/g).join("-");
}

/**
 * The room named by what a person typed: a bare room name or an invite link.
 * @param {string} input
 * @returns {string | null}
 */
export function roomFromInput(input) {
  const text = input.trim();
  if (ROOM_PATTERN.test(text)) return text;
  try {
    const match = new URL(text, location.origin).pathname.match(/^\/r\/([^/]+)\/?$/);
    const room = match ? decodeURIComponent(match[1]) : "";
    return ROOM_PATTERN.test(room) ? room : null;
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
