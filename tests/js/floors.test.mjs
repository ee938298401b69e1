import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

const SCRIPT = new URL("../../tools/floors.mjs", import.meta.url).pathname;
const REPO = new URL("../../", import.meta.url).pathname;

/** A throwaway tree of modules (path → text) with floors lib < ui < ".", checked by the script as `make lint-floors` runs it. */
function check(files, floors = ["lib", "ui", "."]) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "floors-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
      fs.writeFileSync(path.join(root, name), text);
    }
    fs.writeFileSync(path.join(root, "floors.json"), JSON.stringify({ floors }));
    const run = spawnSync(process.execPath, [SCRIPT, "--root", root], { encoding: "utf8" });
    return { status: run.status, lines: run.stdout.split("\n").filter(Boolean).map((line) => line.replace(`${root}/`, "")) };
  } finally {
    fs.rmSync(root, { recursive: true });
  }
}

test("imports that point down, or stay in their folder, pass", () => {
  const result = check({
    "main.js": 'import { View } from "./ui/view.js";\nimport { on } from "./lib/emitter.js";',
    "ui/view.js": 'import { on } from "../lib/emitter.js";\nimport { icon } from "./icons.js";\nimport { io } from "/static/vendor/socket.io.esm.min.js";',
    "ui/icons.js": 'export const icon = new URL("../../vendor/icons.svg", import.meta.url).href;',
    "lib/emitter.js": "export const on = 1;",
  });
  assert.deepEqual(result, { status: 0, lines: [] });
});

test("an import that points up fails, named by file, line and floors", () => {
  const result = check({
    "lib/emitter.js": '// the emitter\nimport { View } from "../ui/view.js";',
    "ui/view.js": "export class View {}",
  });
  assert.equal(result.status, 1);
  assert.equal(result.lines[0], 'lib/emitter.js:2: "../ui/view.js" points up, from lib (floor 1) to ui (floor 2)');
  assert.match(result.lines.at(-1), /^1 reference\(s\) against the floors \(lowest first: lib < ui < \.\)$/);
});

test("every way of naming a module is a reference: export from, import(), a worker's URL, a table of paths, a /static/js path", () => {
  const result = check({
    "lib/a.js": [
      'export { View } from "../ui/view.js";',
      'const later = () => import("../ui/view.js");',
      'new Worker(new URL(`../ui/worker.js?engine=${"x"}`, import.meta.url), { type: "module" });',
      'const MODULES = { view: "../ui/view.js" };',
      'import { View as Again } from "/static/js/ui/view.js";',
      'import {\n  View as Third,\n} from "../main.js";',
    ].join("\n"),
    "ui/view.js": "export class View {}",
    "ui/worker.js": "",
    "main.js": "",
  });
  assert.equal(result.status, 1);
  assert.deepEqual(result.lines.slice(0, -1).map((line) => line.split(":").slice(0, 2).join(":")), [
    "lib/a.js:1", "lib/a.js:2", "lib/a.js:3", "lib/a.js:4", "lib/a.js:5", "lib/a.js:8",
  ]);
});

test("a JSDoc type loads nothing and is not a reference; comments are not code", () => {
  const result = check({
    "lib/a.js": '/** @typedef {import("../ui/view.js").View} View */\n// import { View } from "../ui/view.js";\n/* "../ui/view.js" */ export const a = "https://example.org/x.js";',
    "ui/view.js": "export class View {}",
  });
  assert.deepEqual(result, { status: 0, lines: [] });
});

test("a folder on no floor fails, as does a module in it", () => {
  const result = check({ "effects/a.js": 'import { View } from "../ui/view.js";', "lib/b.js": 'import { a } from "../effects/a.js";', "ui/view.js": "" });
  assert.equal(result.status, 1);
  assert.deepEqual(result.lines.slice(0, -1), [
    "effects/a.js: its folder effects is on no floor of the floors file",
    'lib/b.js:1: "../effects/a.js" names folder effects, which is on no floor',
  ]);
});

test("the browser code itself keeps its floors (static/js/floors.json)", () => {
  const run = spawnSync(process.execPath, [SCRIPT], { cwd: REPO, encoding: "utf8" });
  assert.equal(run.stdout, "");
  assert.equal(run.status, 0);
});
