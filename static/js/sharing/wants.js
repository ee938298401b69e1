/**
 * The data channel's `wants` message (docs/protocol.md, "What a page wants"): what this page
 * would analyse of a peer's stream, sent to that peer so that it shares just that
 * (own-share.js). `{"type": "wants", "mask": true, "faces": true, "landmarks": false, "expressions": false}`
 *
 * @typedef {import("../analysis/analysis.js").Wants} Wants
 */
const TYPE = "wants";

/** The message that tells a peer what this page wants of its stream. @param {Wants} wants */
export function wantsMessage(wants) {
  return { type: TYPE, ...wants };
}

/**
 * What a peer's message says it wants, as it said it (unchecked: OwnShare.setWants reads it),
 * or null for any other message.
 * @param {unknown} message as it arrived on the data channel (JSON)
 */
export function wantsIn(message) {
  return /** @type {{type?: unknown} | null} */ (message)?.type === TYPE ? message : null;
}
