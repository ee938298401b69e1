/**
 * Reading what another page sent on a data channel (a mesh link's own channel, or a Janus
 * publisher's): small JSON messages, see sharing/ and greeting.js.
 */

/** The longest data-channel message read: ours are a few dozen bytes. */
const MAX_MESSAGE = 4096;

/**
 * A message another page sent on a data channel: its JSON, or undefined for anything that is
 * not one of ours (not text, too long, not JSON). Unchecked beyond that.
 * @param {unknown} data
 */
export function readMessage(data) {
  if (typeof data !== "string" || data.length > MAX_MESSAGE) return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
