import assert from "node:assert/strict";
import { test } from "node:test";

import { fitTiles, floatingBox, spotlight } from "/static/js/ui/grid-layout.js";

const GAP = 8;

function overlap(a, b) {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 1e-6 && height > 1e-6;
}

function inside(box, area) {
  const slack = 1e-6;
  return box.x >= -slack && box.y >= -slack && box.x + box.width <= area.width + slack && box.y + box.height <= area.height + slack;
}

function rowsOf(boxes) {
  return [...new Set(boxes.map((box) => Math.round(box.y)))].length;
}

test("every tile keeps its video's shape, inside the area and apart from the others", () => {
  for (const area of [{ width: 1280, height: 700 }, { width: 390, height: 700 }, { width: 1920, height: 980 }, { width: 300, height: 120 }]) {
    for (let count = 1; count <= 9; count++) {
      const aspects = Array.from({ length: count }, (_, index) => (index % 3 === 2 ? 16 / 9 : 4 / 3));
      const boxes = fitTiles({ ...area, gap: GAP, aspects });
      assert.equal(boxes.length, count);
      boxes.forEach((box, index) => {
        assert.ok(Math.abs(box.width / box.height - aspects[index]) < 1e-9, "no stretching");
        assert.ok(inside(box, area), `${JSON.stringify(box)} outside ${JSON.stringify(area)}`);
        boxes.slice(index + 1).forEach((other) => assert.ok(!overlap(box, other)));
      });
    }
  }
});

test("two 4:3 people sit side by side on a wide window and one above the other on a phone", () => {
  assert.equal(rowsOf(fitTiles({ width: 1280, height: 700, gap: GAP, aspects: [4 / 3, 4 / 3] })), 1);
  assert.equal(rowsOf(fitTiles({ width: 390, height: 700, gap: GAP, aspects: [4 / 3, 4 / 3] })), 2);
});

test("the arrangement chosen is the largest of all row counts", () => {
  const area = { width: 1000, height: 640, gap: GAP };
  const aspects = [4 / 3, 4 / 3, 4 / 3, 4 / 3, 4 / 3];
  const chosen = fitTiles({ ...area, aspects })[0];
  // Five 4:3 tiles in 1000x640: two rows of 3 + 2 (tile 328 wide) beat one row (194) and three rows (2+2+1: 277).
  assert.equal(rowsOf(fitTiles({ ...area, aspects })), 2);
  assert.ok(Math.abs(chosen.width - (1000 - 2 * GAP) / 3) < 1e-6);
});

test("five people are three over two, each row centred", () => {
  const boxes = fitTiles({ width: 1000, height: 640, gap: GAP, aspects: Array(5).fill(4 / 3) });
  const second = boxes.slice(3);
  const left = second[0].x;
  const right = 1000 - (second[1].x + second[1].width);
  assert.ok(Math.abs(left - right) < 1e-6, "the shorter row is centred");
  assert.ok(boxes.slice(0, 3).every((box) => box.y < second[0].y));
});

test("a tile alone fills the area's width or height", () => {
  const [box] = fitTiles({ width: 1280, height: 600, gap: GAP, aspects: [4 / 3] });
  assert.equal(box.height, 600);
  assert.equal(box.width, 800);
  assert.equal(box.x, 240);
});

test("no area or no tiles gives no boxes", () => {
  assert.deepEqual(fitTiles({ width: 0, height: 500, gap: GAP, aspects: [1] }), []);
  assert.deepEqual(fitTiles({ width: 500, height: 500, gap: GAP, aspects: [] }), []);
});

test("a spotlight makes one tile larger than any tile of the grid, the others in a strip apart from it", () => {
  const area = { width: 1280, height: 700, gap: GAP };
  const aspects = [16 / 9, 4 / 3, 4 / 3, 4 / 3];
  const grid = fitTiles({ ...area, aspects });
  const { main, others } = spotlight({ ...area, main: aspects[0], others: aspects.slice(1) });
  assert.ok(main.width * main.height > 2 * Math.max(...grid.map((box) => box.width * box.height)));
  assert.ok(Math.abs(main.width / main.height - 16 / 9) < 1e-9);
  assert.equal(others.length, 3);
  for (const box of others) {
    assert.ok(!overlap(box, main) && inside(box, area));
    assert.ok(Math.abs(box.width / box.height - 4 / 3) < 1e-9);
  }
});

test("on a tall screen the strip goes below, on a wide one beside", () => {
  const tall = spotlight({ width: 390, height: 700, gap: GAP, main: 4 / 3, others: [4 / 3, 4 / 3] });
  assert.ok(tall.others.every((box) => box.y >= tall.main.y + tall.main.height));
  const wide = spotlight({ width: 1600, height: 500, gap: GAP, main: 4 / 3, others: [4 / 3, 4 / 3] });
  assert.ok(wide.others.every((box) => box.x >= wide.main.x + wide.main.width));
});

test("your own picture floats small in the bottom right corner, or where it was dragged, always inside", () => {
  const area = { width: 1280, height: 700 };
  const corner = floatingBox({ ...area, aspect: 4 / 3, narrow: false });
  assert.ok(corner.width <= 280 && corner.width >= 88);
  assert.ok(corner.x + corner.width > area.width - 20 && corner.y + corner.height > area.height - 20);
  const dragged = floatingBox({ ...area, aspect: 4 / 3, narrow: false, anchor: { x: 0, y: 0 } });
  assert.ok(dragged.x === 8 && dragged.y === 8, "kept inside after a drag past the corner");
  const phone = floatingBox({ width: 390, height: 700, aspect: 3 / 4, narrow: true });
  assert.ok(phone.width / 390 <= 0.31 && phone.height <= 0.35 * 700 + 1e-9);
});
