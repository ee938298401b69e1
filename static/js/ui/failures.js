import { FAILURE_CODES } from "../lib/failure.js";

/**
 * The one place that decides what a person sees of a failure: every object's
 * `error` event and every rejected request of the page end here. The failure's
 * code picks how loud the notice is; its message is what the person reads.
 */

/** Failures that pass by themselves or leave the call working: a quiet notice. */
const PASSING = new Set([
  "unreachable", "unavailable", "rate_limited", "screen", "copy", "analysis", "analysis-mask", "analysis-faces", "engine",
  "scene-refused", "scene-catalogue", "upload", "photo", "recording", "sfu",
]);
/** Failures the page heals on its own before anyone could act: for the console only.
 * A call whose description or candidate could not be applied is offered again or
 * restarted by its link's watchdog; if it stays down, the tile shows it. */
const SILENT = new Set(["negotiation"]);
/** Failures told in the page's own words (FAILURE_CODES), which say more than the server's. */
const OWN_WORDS = new Set(["room_full", "wrong_password", "unreachable", "unavailable"]);

export class Failures {
  #notice;
  /** @type {Map<string, (failure: import("../lib/failure.js").Failure) => void>} */
  #places = new Map();

  /** @param {import("./notice.js").Notice} notice */
  constructor(notice) {
    this.#notice = notice;
  }

  /**
   * Failures of one context are shown beside what failed instead of in the notice
   * (a chat message not sent: in the chat; an upload: in the scene's status line).
   * @param {string} context @param {(failure: import("../lib/failure.js").Failure) => void} show
   */
  showIn(context, show) {
    this.#places.set(context, show);
  }

  /**
   * Tell the person.
   * @param {import("../lib/failure.js").Failure} failure
   * @param {{context?: string, subject?: string, actions?: Array<{label: string, run: () => void}>}} [options]
   *   `context`: what failed, if it has a place of its own (`showIn`); `subject`: whom it is about,
   *   so that `clear` takes back only this one
   */
  report(failure, { context = "", subject = "", actions = [] } = {}) {
    const place = this.#places.get(context);
    if (place) {
      place(failure);
      return;
    }
    if (SILENT.has(failure.code)) {
      console.warn(`${failure.code}${subject ? ` (${subject})` : ""}: ${failure.message}`, failure.cause ?? "");
      return;
    }
    const kind = PASSING.has(failure.code) ? "info" : "error";
    // The notice says it in words; the console keeps what caused it, for whoever looks into it.
    console[kind === "info" ? "info" : "warn"](`${failure.code}${subject ? ` (${subject})` : ""}: ${failure.message}`, failure.cause ?? "");
    const text = OWN_WORDS.has(failure.code) ? FAILURE_CODES[failure.code] : failure.message;
    this.#notice.show(text, { kind, code: failure.code, subject, actions });
  }

  /** The failure with this code (about `subject`) is over: take its notice back. @param {string} code @param {string} [subject] */
  clear(code, subject) {
    this.#notice.hide(code, subject);
  }

  /** Whatever is shown is over (joined, say). */
  clearAll() {
    this.#notice.hide();
  }
}
