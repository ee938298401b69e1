/**
 * Where each video tile goes: pure geometry, no DOM.
 *
 * Tiles keep their videos' own shapes. `fitTiles` tries every number of rows,
 * spreads the tiles over them as evenly as it can (the first rows take the
 * extra ones) and keeps the arrangement whose tiles cover the most area; rows
 * are centred, so five people sit as three over two. `spotlight` gives one tile
 * the room and lines up the others in a strip below or beside it, whichever
 * leaves the large one larger.
 *
 * @typedef {{x: number, y: number, width: number, height: number}} Box
 * @typedef {{width: number, height: number, gap: number}} Area
 */

/** The strip of the others under a spotlight: its share of the area, and its bounds in pixels. */
const STRIP_SHARE = 0.2;
const STRIP_MIN = 72;
const STRIP_MAX = 200;

/**
 * Boxes for tiles of the given aspects (width / height), in order, inside the area.
 * @param {Area & {aspects: number[]}} options
 * @returns {Box[]}
 */
export function fitTiles({ width, height, gap, aspects }) {
  const count = aspects.length;
  if (count === 0 || width <= 0 || height <= 0) return [];
  let best = { area: -1, rows: /** @type {number[][]} */ ([]), height: 0 };
  for (let rowCount = 1; rowCount <= count; rowCount++) {
    const rows = splitIntoRows(count, rowCount);
    let rowHeight = (height - gap * (rowCount - 1)) / rowCount;
    for (const row of rows) {
      const aspectSum = row.reduce((sum, index) => sum + aspects[index], 0);
      rowHeight = Math.min(rowHeight, (width - gap * (row.length - 1)) / aspectSum);
    }
    if (rowHeight <= 0) continue;
    const area = rowHeight * rowHeight * aspects.reduce((sum, aspect) => sum + aspect, 0);
    // A strictly larger area wins: with equal areas, fewer rows (wider, calmer) stay.
    if (area > best.area * (1 + 1e-9)) best = { area, rows, height: rowHeight };
  }
  const boxes = /** @type {Box[]} */ (new Array(count));
  const used = best.rows.length * best.height + gap * (best.rows.length - 1);
  let y = (height - used) / 2;
  for (const row of best.rows) {
    const rowWidth = row.reduce((sum, index) => sum + aspects[index] * best.height, 0) + gap * (row.length - 1);
    let x = (width - rowWidth) / 2;
    for (const index of row) {
      const tileWidth = aspects[index] * best.height;
      boxes[index] = { x, y, width: tileWidth, height: best.height };
      x += tileWidth + gap;
    }
    y += best.height + gap;
  }
  return boxes;
}

/**
 * One tile large, the others in a strip.
 * @param {Area & {main: number, others: number[]}} options `main` and `others` are aspects
 * @returns {{main: Box, others: Box[]}}
 */
export function spotlight({ width, height, gap, main, others }) {
  if (others.length === 0) return { main: fitTiles({ width, height, gap, aspects: [main] })[0], others: [] };
  const below = clamp(height * STRIP_SHARE, STRIP_MIN, STRIP_MAX);
  const beside = clamp(width * STRIP_SHARE, STRIP_MIN * 1.6, STRIP_MAX * 1.6);
  const options = [
    { main: { x: 0, y: 0, width, height: height - below - gap }, strip: { x: 0, y: height - below, width, height: below } },
    { main: { x: 0, y: 0, width: width - beside - gap, height }, strip: { x: width - beside, y: 0, width: beside, height } },
  ];
  const placed = options.map(({ main: mainArea, strip }) => ({
    main: offset(fitTiles({ ...mainArea, gap, aspects: [main] })[0], mainArea),
    others: fitTiles({ ...strip, gap, aspects: others }).map((box) => offset(box, strip)),
  }));
  const size = (/** @type {Box | undefined} */ box) => (box ? box.width * box.height : 0);
  return size(placed[0].main) >= size(placed[1].main) ? placed[0] : placed[1];
}

/**
 * Your own picture once others are there: a small box in a corner, or where it was dragged.
 * @param {{width: number, height: number, aspect: number, narrow: boolean, anchor?: {x: number, y: number} | null}} options
 *   `anchor`: the box's centre as a share of the area (0–1), from a drag
 * @returns {Box}
 */
export function floatingBox({ width, height, aspect, narrow, anchor = null }) {
  const margin = 8;
  let boxWidth = clamp(width * (narrow ? 0.3 : 0.2), 88, 280);
  let boxHeight = boxWidth / aspect;
  if (boxHeight > height * 0.35) {
    boxHeight = height * 0.35;
    boxWidth = boxHeight * aspect;
  }
  const centreX = anchor ? anchor.x * width : width - margin - boxWidth / 2;
  const centreY = anchor ? anchor.y * height : height - margin - boxHeight / 2;
  return {
    x: clamp(centreX - boxWidth / 2, margin, Math.max(margin, width - boxWidth - margin)),
    y: clamp(centreY - boxHeight / 2, margin, Math.max(margin, height - boxHeight - margin)),
    width: boxWidth,
    height: boxHeight,
  };
}

/** `count` indices in `rowCount` rows, as even as can be, the first rows one longer. @param {number} count @param {number} rowCount */
function splitIntoRows(count, rowCount) {
  const rows = [];
  let next = 0;
  for (let row = 0; row < rowCount; row++) {
    const length = Math.floor(count / rowCount) + (row < count % rowCount ? 1 : 0);
    rows.push(Array.from({ length }, () => next++));
  }
  return rows;
}

/** @param {Box | undefined} box @param {{x: number, y: number}} origin */
function offset(box, origin) {
  return box ? { ...box, x: box.x + origin.x, y: box.y + origin.y } : { x: origin.x, y: origin.y, width: 0, height: 0 };
}

/** @param {number} value @param {number} low @param {number} high */
function clamp(value, low, high) {
  return Math.min(Math.max(value, low), high);
}
