import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { fieldPath, SceneSchema } from "/static/js/scene/schema.js";

const ROOT = new URL("../../", import.meta.url);
const read = (path) => readFileSync(new URL(path, ROOT), "utf8");
// The file the server checks with and serves at /api/scene-schema.
const schema = new SceneSchema(JSON.parse(read("config/scene.schema.json")));

test("the example scenes and the scenes in docs/scene.md are valid", () => {
  const examples = readdirSync(new URL("config/scenes/", ROOT)).filter((name) => name.endsWith(".json"));
  assert.ok(examples.length >= 3);
  for (const name of examples) assert.deepEqual(schema.check(JSON.parse(read(`config/scenes/${name}`))), { valid: true }, name);
  const documented = [...read("docs/scene.md").matchAll(/```json\n([\s\S]*?)```/g)].map(([, text]) => JSON.parse(text));
  assert.ok(documented.length >= 2);
  for (const scene of documented) assert.deepEqual(schema.check(scene), { valid: true });
  assert.deepEqual(schema.check({}), { valid: true }, "every field is optional");
});

/** What the JSON editor shows for `scene`: the field, and the message. */
function refusal(scene) {
  const result = schema.check(scene);
  assert.equal(result.valid, false, JSON.stringify(scene));
  return result;
}

test("a number out of range names the field (the server's spelling) and the limit", () => {
  const { field, message } = refusal({ participants: [{ name: "Ada" }, { name: "Bea", x: 0.2, y: 0.2, scale: 9 }] });
  assert.equal(field, "participants[1].scale");
  assert.match(message, /^Scene field participants\[1\]\.scale: /);
  assert.match(message, /\b9\b.*\b4\b/, "what was given, and the maximum");
  const canvas = refusal({ canvas: { width: 100, height: 720 } });
  assert.equal(canvas.field, "canvas.width");
  assert.match(canvas.message, /^Scene field canvas\.width: .*\b160\b/);
});

test("the deepest problem is named, not the list or object that holds it", () => {
  const { field, message } = refusal({ participants: [{ name: "Ada", effects: { sticker: "monocle" } }] });
  assert.equal(field, "participants[0].effects.sticker");
  assert.match(message, /glasses/, "says what would do");
  assert.equal(refusal({ overlays: [{ anchor: { participant: "Ada", to: "face" }, image: "/static/stickers/crown.svg", opacity: 2 }] }).field, "overlays[0].opacity");
});

test("a picture from another site is refused in the words the server uses (the schema's x-messages)", () => {
  for (const image of ["https://elsewhere.example/cat.png", "/static/../settings.py", "cat.png"]) {
    const { field, message } = refusal({ background: { image } });
    assert.equal(field, "background.image");
    assert.equal(message, "Scene field background.image: must be a picture served here: a path starting with /static/ or /uploads/.");
  }
  // The same words for an overlay's picture, two references deep in the schema.
  assert.deepEqual(refusal({ overlays: [{ image: "https://elsewhere.example/hat.png", x: 0, y: 0 }] }), {
    valid: false,
    field: "overlays[0].image",
    message: "Scene field overlays[0].image: must be a picture served here: a path starting with /static/ or /uploads/.",
  });
});

test("an overlay with neither an anchor nor a place says what it needs", () => {
  const { field, message } = refusal({ overlays: [{ image: "/static/stickers/crown.svg", x: 0.5 }] });
  assert.equal(field, "overlays[0]");
  assert.equal(message, "Scene field overlays[0]: an overlay needs either an `anchor` or both `x` and `y`.");
});

test("a wrong type names the field and the type wanted", () => {
  const { field, message } = refusal({ participants: [{ name: "Ada", x: "left" }] });
  assert.equal(field, "participants[0].x");
  assert.match(message, /^Scene field participants\[0\]\.x: .*number/);
});

test("a person without a name, or a field the schema does not know, is named", () => {
  const nameless = refusal({ participants: [{ x: 0.1 }] });
  assert.equal(nameless.field, "participants[0]");
  assert.match(nameless.message, /^Scene field participants\[0\]: .*"?name"?/);
  assert.equal(refusal({ arange: "grid" }).field, "arange");
  assert.equal(refusal({ background: { colour: "#ffffff" } }).field, "background.colour");
});

test("something that is not a scene object at all is refused as a whole", () => {
  for (const scene of [[], "scene", 5, null]) {
    const { field, message } = refusal(scene);
    assert.equal(field, "");
    assert.match(message, /^Scene: .*object/);
  }
});

test("a field's place is spelt as the server spells it", () => {
  assert.equal(fieldPath("#/participants/0/scale"), "participants[0].scale");
  assert.equal(fieldPath("#/overlays/12/anchor/to"), "overlays[12].anchor.to");
  assert.equal(fieldPath("#/canvas"), "canvas");
  assert.equal(fieldPath("#"), "");
  assert.equal(fieldPath("#/a~1b/c~0d/e%20f"), "a/b.c~d.e f");
});

test("a value ending in a line break is refused, as the server refuses it (the same strings as tests/unit/test_scenes.py)", () => {
  const cases = JSON.parse(read("tests/data/scene-line-ends.json"));
  assert.ok(cases.refused.length >= 6);
  for (const { scene, field } of cases.refused) assert.equal(refusal(scene).field, field, JSON.stringify(scene));
  for (const scene of cases.accepted) assert.deepEqual(schema.check(scene), { valid: true }, JSON.stringify(scene));
});
