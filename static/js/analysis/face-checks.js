/**
 * Checks that drop detections which are not faces, measured on pictures nobody tuned for
 * (bench/faces_unseen.py; docs/benchmarks.md, "Faces on pictures the project did not choose").
 *
 * TinyFaceDetector looking at a small face through a small input (a person 2 m from the
 * camera, 30 px wide at 224) also fires its large anchors on the person's body: a box twice
 * or three times the face's width, from the chin down over the chest and shoulders, or one
 * round the whole person. Such a box always has the real face at its top: a detection much
 * narrower than it, centred within its width, in its upper half or just above it. The
 * person's own mask adds a second check: a face is part of the person, so a box whose middle
 * is mostly background is not one.
 *
 * @typedef {import("./engines/faces.js").Face} Face
 * @typedef {import("./masks.js").PersonMask} PersonMask
 * @typedef {"none" | "body" | "mask" | "body+mask"} FaceCheck which checks `keepFaces` applies
 */

/**
 * The checks the page applies: both, measured to help on pictures nobody tuned for (the body check
 * removes the false faces of a single person, the mask check those on the background between
 * people) and to cost well under a millisecond a result.
 * @type {FaceCheck}
 */
export const FACE_CHECK = "body+mask";

/** A face at the top of another box is that box's person when at most this fraction of its width. */
const NARROWER = 0.6;
/** …and when its bottom (the chin) comes within this many of its own heights above the box's top (a neck). */
const NECK = 0.75;
/** A box's middle (its central half, each way) must be at least this much person. */
const PERSON_SHARE = 0.3;

/**
 * The faces a detection result should report.
 * @template {Face} F
 * @param {F[]} faces what the detector found in one frame
 * @param {FaceCheck} check
 * @param {PersonMask | null} [mask] the same stream's latest person mask, if any
 * @param {Face[]} [shown] the faces shown for the stream after its last result: a body box
 *   found in a frame whose face the detector missed still has that face at its top
 * @returns {F[]}
 */
export function keepFaces(faces, check, mask = null, shown = []) {
  let kept = faces;
  const known = [...faces, ...shown];
  if (check === "body" || check === "body+mask") kept = kept.filter((face) => !known.some((other) => isFaceOf(other, face)));
  if ((check === "mask" || check === "body+mask") && mask?.box) kept = kept.filter((face) => personShare(face, mask) >= PERSON_SHARE);
  return kept;
}

/**
 * Whether `face` is the face at the top of `box`: much narrower, centred within its width,
 * in its upper half or above its top by no more than a neck.
 * @param {Face} face @param {Face} box
 */
export function isFaceOf(face, box) {
  if (face === box || face.width > box.width * NARROWER) return false;
  const centreX = face.x + face.width / 2;
  const centreY = face.y + face.height / 2;
  const within = centreX > box.x && centreX < box.x + box.width;
  const bottom = face.y + face.height;
  return within && bottom > box.y - face.height * NECK && centreY < box.y + box.height / 2;
}

/**
 * The share of a box's middle (its central half, each way) that the mask calls person.
 * @param {Face} face @param {PersonMask} mask
 */
export function personShare(face, mask) {
  const left = Math.floor((face.x + face.width / 4) * mask.width);
  const right = Math.ceil((face.x + (face.width * 3) / 4) * mask.width);
  const top = Math.floor((face.y + face.height / 4) * mask.height);
  const bottom = Math.ceil((face.y + (face.height * 3) / 4) * mask.height);
  let person = 0, all = 0;
  for (let y = Math.max(0, top); y < Math.min(mask.height, bottom); y += 1) {
    for (let x = Math.max(0, left); x < Math.min(mask.width, right); x += 1) {
      all += 1;
      if (mask.alpha[y * mask.width + x] > 127) person += 1;
    }
  }
  return all ? person / all : 0;
}
