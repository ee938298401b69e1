/**
 * The one kind of failure in the room page. Every failure an object reports
 * (through its `error` event or a rejected promise) is a Failure whose `code`
 * is one of FAILURE_CODES, so one place (ui/failures.js) decides what the person
 * sees. The server's codes (docs/protocol.md) come through unchanged.
 */
export const FAILURE_CODES = {
  // The server's answers (docs/protocol.md).
  bad_request: "The request was malformed.",
  not_joined: "Join a room first.",
  room_full: "This room is full. A video mesh stays smooth only for a few people; try again when someone leaves.",
  wrong_password: "This room has a password. Enter it to join.",
  unknown_peer: "That person is no longer in the room.",
  too_large: "That is larger than allowed.",
  rate_limited: "Too many requests; wait a moment.",
  version_conflict: "The scene changed meanwhile.",
  unsupported_image: "Only complete PNG, JPEG or WebP pictures can be used.",
  unavailable: "The server is having trouble. Retrying…",
  internal: "The server failed.",
  broadcast_busy: "Someone else in the room is broadcasting it.",
  unsupported_media: "This browser cannot record the scene in a format the server broadcasts.",
  out_of_order: "The broadcast lost a piece of its recording.",
  // The link to the server.
  unreachable: "The server cannot be reached. Retrying…",
  // This browser's camera, microphone and screen.
  unsupported: "This browser cannot make video calls.",
  "media-denied": "The camera and microphone were not allowed.",
  "media-missing": "No camera or microphone was found.",
  "media-busy": "The camera or microphone is in use by another program.",
  "media-unsupported": "This browser cannot use a camera here.",
  "media-failed": "The camera or microphone could not be started.",
  screen: "The screen could not be shared.",
  // Calls.
  negotiation: "A call could not be set up; it is tried again.",
  "relay-unusable": "The relay server cannot be used.",
  sfu: "The video server cannot be used; it is tried again.",
  // Analysis and the scene.
  analysis: "Video analysis could not start.",
  engine: "A video analysis engine failed.",
  "analysis-mask": "The person segmentation failed.",
  "analysis-faces": "The face analysis failed.",
  "scene-refused": "The scene edit was refused.",
  "scene-catalogue": "Example scenes are not available.",
  upload: "The picture could not be used.",
  broadcast: "The broadcast stopped.",
  photo: "The picture could not be made.",
  recording: "Recording stopped.",
  copy: "The link could not be copied.",
};

/** @typedef {keyof typeof FAILURE_CODES} FailureCode */

export class Failure extends Error {
  /**
   * @param {FailureCode} code
   * @param {string} [message] what happened, for a person; the code's own text if none
   * @param {{cause?: unknown, reply?: Record<string, any>}} [details] `reply`: the server's whole answer, as it came
   *   (a version conflict carries the current scene)
   */
  constructor(code, message = FAILURE_CODES[code], { cause, reply = {} } = {}) {
    super(message, { cause });
    this.code = code;
    this.reply = reply;
  }
}

/**
 * `error` as a Failure: itself if it is one, else wrapped under `code`.
 * @param {unknown} error @param {FailureCode} code @param {string} [prefix] put before the error's message
 */
export function asFailure(error, code, prefix = "") {
  if (error instanceof Failure) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new Failure(code, prefix ? `${prefix}: ${message}` : message, { cause: error });
}
