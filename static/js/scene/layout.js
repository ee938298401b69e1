import { median } from "../lib/timing.js";

/**
 * Where everyone goes on the composed canvas: pure functions from a scene and
 * the people in the room to rectangles in canvas pixels. Nothing here draws.
 *
 * @typedef {import("../draw/face-drawing.js").Face} Face
 * @typedef {{id: string, name: string, aspect: number, face?: Face | null}} Person
 *   `aspect` is the video's height / width; `face` the largest face found in it
 * @typedef {{id: string, name: string, x: number, y: number, width: number, height: number,
 *   z: number, mirror: boolean, opacity: number, effects: Effects, listed: boolean}} Placement
 * @typedef {{x: number, y: number, scale: number}} Slot fractions of the canvas; `scale`: width / canvas width
 */

/**
 * A scene as config/scene.schema.json has it (see docs/scene.md): every field may be missing.
 * @typedef {{name?: string, canvas?: {width: number, height: number},
 *   background?: {image?: string, color?: string, fit?: "cover" | "contain" | "stretch"},
 *   arrange?: "row" | "grid" | "none", alignFaces?: boolean,
 *   participants?: Participant[], overlays?: Overlay[]}} Scene
 * @typedef {{name: string, x?: number, y?: number, scale?: number, z?: number, mirror?: boolean, opacity?: number,
 *   hidden?: boolean, effects?: Partial<Effects>}} Participant a participant's entry, found by name
 * @typedef {{removeBackground: boolean, faceBoxes: boolean, landmarks: boolean, expression: boolean,
 *   sticker: string | null}} Effects `sticker`: a name of STICKERS (draw/face-drawing.js)
 * @typedef {{image: string, x?: number, y?: number, scale?: number, z?: number, opacity?: number,
 *   anchor?: {participant: string, to: "face" | "eyes" | "head"}}} Overlay at `x`, `y`, or anchored to a participant
 * @typedef {Omit<Required<Scene>, "name"> & Pick<Scene, "name">} FullScene a scene with every default filled in
 */

/** @type {Effects} */
export const DEFAULT_EFFECTS = { removeBackground: true, faceBoxes: false, landmarks: false, expression: false, sticker: null };

export const DEFAULT_SCENE = Object.freeze(/** @type {Omit<FullScene, "name">} */ ({
  canvas: { width: 1280, height: 720 },
  background: { image: "/static/backgrounds/studio.svg", color: "#203040", fit: "cover" },
  arrange: "row",
  alignFaces: false,
  participants: [],
  overlays: [],
}));

/** How wide a fixed overlay without `scale` is drawn (fraction of the canvas width). */
export const OVERLAY_SCALE = 0.15;

/** A scene with every default filled in (a new object; the input is not changed). @param {Scene | null} scene @returns {FullScene} */
export function withDefaults(scene) {
  return {
    ...DEFAULT_SCENE,
    ...scene,
    canvas: { ...DEFAULT_SCENE.canvas, ...scene?.canvas },
    background: { ...(scene?.background ?? DEFAULT_SCENE.background) },
    participants: scene?.participants ?? [],
    overlays: scene?.overlays ?? [],
  };
}

/**
 * @param {ReturnType<typeof withDefaults>} scene @param {Person[]} people
 * @returns {Placement[]} drawing order: lowest z first
 */
export function placePeople(scene, people) {
  const { width, height } = scene.canvas;
  /** @type {Map<string, Participant>} */
  const entries = new Map();
  for (const entry of scene.participants) if (!entries.has(entry.name)) entries.set(entry.name, entry);
  const positioned = (/** @type {Partial<Participant> | undefined} */ entry) => entry && entry.x !== undefined && entry.y !== undefined && entry.scale !== undefined;
  // By name, so every browser in the room places people in the same slots.
  const automatic = people.filter((person) => !positioned(entries.get(person.name))).sort(byName);
  const slots = arrange(scene.arrange, automatic, width, height);

  /** @type {Placement[]} */
  const placements = [];
  for (const person of people) {
    /** @type {Partial<Participant>} */
    const entry = entries.get(person.name) ?? {};
    // Only a positioned entry has no slot, and then its own x, y and scale are used.
    const slot = /** @type {Slot} */ (slots.get(person.id));
    if (entry.hidden || (!slot && !positioned(entry))) continue;
    const scale = entry.scale ?? slot.scale;
    const placementWidth = scale * width;
    placements.push({
      id: person.id,
      name: person.name,
      x: (entry.x ?? slot.x) * width,
      y: (entry.y ?? slot.y) * height,
      width: placementWidth,
      height: placementWidth * person.aspect,
      z: entry.z ?? 0,
      mirror: entry.mirror ?? false,
      opacity: entry.opacity ?? 1,
      effects: { ...DEFAULT_EFFECTS, ...entry.effects },
      listed: entries.has(person.name),
    });
  }
  if (scene.alignFaces) alignFaces(placements, new Map(people.map((person) => [person.id, person.face])));
  // Equal z: by name, so every browser draws the same person in front.
  return placements.sort((a, b) => a.z - b.z || byName(a, b));
}

/**
 * Automatic slots as fractions of the canvas (x, y of the top-left corner; scale = width / canvas width).
 * `row`: side by side, standing on the bottom edge; `grid`: rows and columns, centred in their cells.
 * @param {FullScene["arrange"]} mode @param {Person[]} people @param {number} width @param {number} height
 * @returns {Map<string, Slot>}
 */
export function arrange(mode, people, width, height) {
  /** @type {Map<string, Slot>} */
  const slots = new Map();
  const count = people.length;
  if (mode === "none" || count === 0) return slots;
  const columns = mode === "grid" ? Math.ceil(Math.sqrt(count)) : count;
  const rows = Math.ceil(count / columns);
  const cellWidth = width / columns;
  const cellHeight = height / rows;
  people.forEach((person, index) => {
    const column = index % columns;
    const row = Math.floor(index / columns);
    // As large as fits in the cell (a row leaves a little headroom), at most half the canvas wide.
    const fit = Math.min(cellWidth * (mode === "row" ? 0.95 : 0.9), (cellHeight * (mode === "row" ? 0.9 : 0.9)) / person.aspect, width * 0.5);
    const drawnHeight = fit * person.aspect;
    const x = column * cellWidth + (cellWidth - fit) / 2;
    const y = mode === "row" ? height - drawnHeight : row * cellHeight + (cellHeight - drawnHeight) / 2;
    slots.set(person.id, { x: x / width, y: y / height, scale: fit / width });
  });
  return slots;
}

/**
 * Scale each placement about its face so every face comes out as wide as
 * their median, then move it so the eyes sit on one line (the median eye line).
 * Placements without a face found are left where they are.
 * @param {Placement[]} placements @param {Map<string, Face | null | undefined>} faces
 */
export function alignFaces(placements, faces) {
  const measured = placements.flatMap((placement) => {
    const face = faces.get(placement.id);
    if (!face) return [];
    const centreX = placement.mirror ? 1 - face.x - face.width / 2 : face.x + face.width / 2;
    const eyes = face.y + face.height * 0.4;
    return [{ placement, centreX, eyes, faceWidth: face.width * placement.width, eyeLine: placement.y + eyes * placement.height }];
  });
  if (measured.length < 2) return;
  // At least two values each, so neither median is null.
  const width = /** @type {number} */ (median(measured.map(({ faceWidth }) => faceWidth)));
  const line = /** @type {number} */ (median(measured.map(({ eyeLine }) => eyeLine)));
  for (const { placement, centreX, eyes, faceWidth } of measured) {
    const factor = width / faceWidth;
    const anchorX = placement.x + centreX * placement.width;
    placement.width *= factor;
    placement.height *= factor;
    placement.x = anchorX - centreX * placement.width;
    placement.y = line - eyes * placement.height;
  }
}

/** The largest face of a list (the one a cut-out is aligned by), or null. @param {Face[] | undefined} faces */
export function largestFace(faces) {
  return faces?.length ? faces.reduce((best, face) => (face.width * face.height > best.width * best.height ? face : best)) : null;
}

/**
 * A scene with one participant's entry changed (added when missing). The
 * input scene is not changed.
 * @param {Scene} scene @param {string} name @param {Omit<Partial<Participant>, "name">} changes
 * @returns {Scene}
 */
export function withParticipant(scene, name, changes) {
  const participants = [...(scene.participants ?? [])];
  const index = participants.findIndex((entry) => entry.name === name);
  const rounded = Object.fromEntries(Object.entries(changes).map(([key, value]) => [key, typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 10000) / 10000 : value]));
  if (index === -1) participants.push({ name, ...rounded });
  else participants[index] = { ...participants[index], ...rounded };
  return { ...scene, participants };
}

/** The topmost placement under a canvas point, or null. @param {Placement[]} placements @param {number} x @param {number} y */
export function placementAt(placements, x, y) {
  for (let index = placements.length - 1; index >= 0; index -= 1) {
    const placement = placements[index];
    if (x >= placement.x && x <= placement.x + placement.width && y >= placement.y && y <= placement.y + placement.height) return placement;
  }
  return null;
}

/** @param {{name: string}} a @param {{name: string}} b */
function byName(a, b) {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
