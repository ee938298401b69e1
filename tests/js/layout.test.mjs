import assert from "node:assert/strict";
import { test } from "node:test";

import { largestFace, placementAt, placePeople, withDefaults, withParticipant } from "/static/js/scene/layout.js";

const NAMES = ["Ada", "Bea", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal", "Ivy"];

/** `count` people with cameras of the given proportions (height / width), in no particular order. */
function people(count, aspect = 0.75) {
  return NAMES.slice(0, count)
    .reverse()
    .map((name) => ({ id: `id-${name}`, name, aspect }));
}

function overlap(a, b) {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 1e-9 && height > 1e-9;
}

function assertInsideAndApart(placements, canvas) {
  for (const p of placements) {
    assert.ok(p.x >= 0 && p.y >= 0 && p.x + p.width <= canvas.width + 1e-9 && p.y + p.height <= canvas.height + 1e-9, `${p.name} inside: ${JSON.stringify(p)}`);
    assert.ok(p.width > 0 && p.height > 0);
  }
  for (const [index, a] of placements.entries()) {
    for (const b of placements.slice(index + 1)) assert.ok(!overlap(a, b), `${a.name} and ${b.name} overlap`);
  }
}

for (const arrange of ["row", "grid"]) {
  for (const aspect of [0.75, 0.5625, 1.78]) {
    test(`${arrange}: everyone (1 to 9 people, cameras ${aspect} high) is on the canvas, nobody covers anybody`, () => {
      for (const canvas of [{ width: 1280, height: 720 }, { width: 720, height: 1280 }, { width: 160, height: 90 }]) {
        for (let count = 1; count <= NAMES.length; count += 1) {
          const placements = placePeople(withDefaults({ arrange, canvas }), people(count, aspect));
          assert.equal(placements.length, count);
          assertInsideAndApart(placements, canvas);
          for (const p of placements) assert.ok(Math.abs(p.height - p.width * aspect) < 1e-9, "the video keeps its proportions");
        }
      }
    });
  }
}

test("row: people stand on the bottom edge, by name from left to right, none wider than half the canvas", () => {
  for (let count = 1; count <= 6; count += 1) {
    const placements = placePeople(withDefaults({ arrange: "row" }), people(count));
    const leftToRight = [...placements].sort((a, b) => a.x - b.x).map((p) => p.name);
    assert.deepEqual(leftToRight, NAMES.slice(0, count));
    for (const p of placements) {
      assert.ok(Math.abs(p.y + p.height - 720) < 1e-9, `${p.name} stands on the bottom edge`);
      assert.ok(p.width <= 640 + 1e-9);
    }
  }
});

test("grid: four people take two rows of two, each centred in a quarter of the canvas", () => {
  const placements = placePeople(withDefaults({ arrange: "grid" }), people(4));
  const byName = Object.fromEntries(placements.map((p) => [p.name, p]));
  const centre = (p) => [Math.round(p.x + p.width / 2), Math.round(p.y + p.height / 2)];
  assert.deepEqual(centre(byName.Ada), [320, 180]);
  assert.deepEqual(centre(byName.Bea), [960, 180]);
  assert.deepEqual(centre(byName.Cy), [320, 540]);
  assert.deepEqual(centre(byName.Dee), [960, 540]);
});

test("every browser puts everyone in the same place, whatever order it learnt of them in", () => {
  for (const arrange of ["row", "grid"]) {
    const one = placePeople(withDefaults({ arrange }), people(5));
    const other = placePeople(withDefaults({ arrange }), people(5).reverse());
    assert.deepEqual(other, one);
  }
});

test("an entry with x, y and scale places that person exactly; the others share the automatic slots", () => {
  const scene = withDefaults({ arrange: "row", participants: [{ name: "Bea", x: 0.25, y: 0.1, scale: 0.5 }] });
  const placements = placePeople(scene, people(3));
  const bea = placements.find((p) => p.name === "Bea");
  assert.deepEqual([bea.x, bea.y, bea.width, bea.height], [320, 72, 640, 480]);
  assert.equal(bea.listed, true);
  const others = placements.filter((p) => p.name !== "Bea");
  assert.deepEqual(others.map((p) => p.listed), [false, false]);
  // The two left to `arrange` split the row between them, as two people would.
  assert.deepEqual(
    others.map(({ x, y, width, height }) => ({ x, y, width, height })),
    placePeople(withDefaults({ arrange: "row" }), people(3).filter((p) => p.name !== "Bea")).map(({ x, y, width, height }) => ({ x, y, width, height })),
  );
});

test("an entry with only some of x, y and scale leaves the place to `arrange` and keeps the rest", () => {
  const scene = withDefaults({ participants: [{ name: "Ada", x: 0.9, z: 3, mirror: true, opacity: 0.5, effects: { sticker: "crown" } }] });
  const [ada] = placePeople(scene, people(1));
  const [automatic] = placePeople(withDefaults({}), people(1));
  assert.equal(ada.x, 0.9 * 1280); // x given; y and scale from the row
  assert.equal(ada.y, automatic.y);
  assert.equal(ada.width, automatic.width);
  assert.deepEqual([ada.z, ada.mirror, ada.opacity], [3, true, 0.5]);
  assert.deepEqual(ada.effects, { removeBackground: true, faceBoxes: false, landmarks: false, expression: false, sticker: "crown" });
});

test("hidden people and, with `arrange: none`, people without a place are left out", () => {
  const hidden = placePeople(withDefaults({ participants: [{ name: "Bea", hidden: true }] }), people(3));
  assert.deepEqual(hidden.map((p) => p.name).sort(), ["Ada", "Cy"]);
  const none = placePeople(withDefaults({ arrange: "none", participants: [{ name: "Cy", x: 0, y: 0, scale: 0.2 }, { name: "Ada", z: 2 }] }), people(3));
  assert.deepEqual(none.map((p) => p.name), ["Cy"]);
});

test("when a name has two entries the first counts", () => {
  const scene = withDefaults({ participants: [{ name: "Ada", x: 0.1, y: 0.1, scale: 0.2 }, { name: "Ada", x: 0.7, y: 0.7, scale: 0.1 }] });
  const [ada] = placePeople(scene, people(1));
  assert.deepEqual([ada.x, ada.y, ada.width], [128, 72, 256]);
});

test("higher z is drawn later (in front); equal z is drawn by name", () => {
  const scene = withDefaults({ participants: [{ name: "Ada", z: 2 }, { name: "Cy", z: -1 }] });
  assert.deepEqual(placePeople(scene, people(4)).map((p) => p.name), ["Cy", "Bea", "Dee", "Ada"]);
});

test("the defaults fill what a scene leaves out, without changing the scene", () => {
  const scene = { canvas: { width: 640 }, participants: [{ name: "Ada" }] };
  const copy = structuredClone(scene);
  const full = withDefaults(scene);
  assert.deepEqual(scene, copy);
  assert.deepEqual(full.canvas, { width: 640, height: 720 });
  assert.equal(full.arrange, "row");
  assert.equal(full.alignFaces, false);
  assert.equal(full.background.image, "/static/backgrounds/studio.svg");
  assert.deepEqual(full.overlays, []);
  assert.deepEqual(withDefaults(undefined).canvas, { width: 1280, height: 720 });
});

test("align faces: faces come out one size on one eye line, each where it stood; someone without a face is left alone", () => {
  // Faces as the analysis reports them (fractions of each video).
  const cast = [
    { id: "a", name: "Ada", aspect: 0.75, face: { x: 0.4, y: 0.2, width: 0.2, height: 0.25 } },
    { id: "b", name: "Bea", aspect: 0.75, face: { x: 0.1, y: 0.5, width: 0.1, height: 0.12 } },
    { id: "c", name: "Cy", aspect: 0.75, face: { x: 0.6, y: 0.3, width: 0.15, height: 0.2 } },
    { id: "d", name: "Dee", aspect: 0.75, face: null },
  ];
  const place = (alignFaces) => placePeople(withDefaults({ arrange: "row", alignFaces }), cast);
  const measure = (placements) =>
    placements
      .filter((p) => p.id !== "d")
      .map((p) => {
        const { face } = cast.find((person) => person.id === p.id);
        return { width: face.width * p.width, eyes: p.y + (face.y + face.height * 0.4) * p.height, centre: p.x + (face.x + face.width / 2) * p.width };
      });
  const before = measure(place(false));
  const after = measure(place(true));
  const widths = (faces) => faces.map((f) => f.width);
  assert.ok(Math.max(...widths(before)) > 1.9 * Math.min(...widths(before)), "the faces differ a lot at first");
  assert.ok(Math.max(...widths(after)) / Math.min(...widths(after)) < 1.01);
  const eyes = after.map((f) => f.eyes);
  assert.ok(Math.max(...eyes) - Math.min(...eyes) < 0.5);
  for (const [index, face] of after.entries()) assert.ok(Math.abs(face.centre - before[index].centre) < 0.5, "stays where it stood");
  assert.deepEqual(place(true).find((p) => p.id === "d"), place(false).find((p) => p.id === "d"));
});

test("align faces: a mirrored picture is aligned by where its face shows, not where it is in the video", () => {
  const cast = [
    { id: "a", name: "Ada", aspect: 0.75, face: { x: 0.1, y: 0.2, width: 0.2, height: 0.25 } },
    { id: "b", name: "Bea", aspect: 0.75, face: { x: 0.5, y: 0.3, width: 0.1, height: 0.12 } },
  ];
  const place = (alignFaces) => placePeople(withDefaults({ alignFaces, participants: [{ name: "Ada", mirror: true }] }), cast);
  const shownCentre = (p) => p.x + (1 - 0.1 - 0.2 / 2) * p.width; // Ada's face, mirrored
  const [before, after] = [place(false), place(true)].map((placements) => placements.find((p) => p.name === "Ada"));
  assert.ok(Math.abs(shownCentre(after) - shownCentre(before)) < 0.5);
  assert.notEqual(after.width, before.width);
});

test("one face alone is not aligned to anything", () => {
  const cast = [{ id: "a", name: "Ada", aspect: 0.75, face: { x: 0.4, y: 0.2, width: 0.2, height: 0.25 } }, ...people(2).slice(0, 1)];
  assert.deepEqual(placePeople(withDefaults({ alignFaces: true }), cast), placePeople(withDefaults({}), cast));
});

test("the largest face of a picture is the one with the largest box", () => {
  const small = { x: 0, y: 0, width: 0.1, height: 0.1 };
  const wide = { x: 0.5, y: 0, width: 0.3, height: 0.1 };
  const tall = { x: 0.2, y: 0, width: 0.12, height: 0.2 };
  assert.equal(largestFace([small, wide, tall]), wide);
  assert.equal(largestFace([]), null);
  assert.equal(largestFace(undefined), null);
});

test("an edit of one participant adds or changes only their entry, rounded to 4 decimals, and leaves the scene as it was", () => {
  const scene = { arrange: "grid", participants: [{ name: "Ada", x: 0.1, z: 2 }, { name: "Bea", scale: 0.3 }] };
  const copy = structuredClone(scene);
  const moved = withParticipant(scene, "Ada", { x: 0.123456789, y: 0.5, z: 3 });
  assert.deepEqual(moved, { arrange: "grid", participants: [{ name: "Ada", x: 0.1235, y: 0.5, z: 3 }, { name: "Bea", scale: 0.3 }] });
  assert.deepEqual(scene, copy);
  const added = withParticipant({}, "Cy", { scale: 1 / 3, mirror: true });
  assert.deepEqual(added, { participants: [{ name: "Cy", scale: 0.3333, mirror: true }] });
});

test("a click picks the person drawn in front at that point, or nobody", () => {
  const placements = placePeople(withDefaults({ participants: [{ name: "Ada", x: 0, y: 0, scale: 0.5, z: 1 }, { name: "Bea", x: 0.25, y: 0, scale: 0.5 }] }), people(2));
  assert.equal(placementAt(placements, 400, 100).name, "Ada"); // both there: Ada is in front
  assert.equal(placementAt(placements, 900, 100).name, "Bea");
  assert.equal(placementAt(placements, 1250, 700), null);
});
