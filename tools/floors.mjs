/**
 * The floors check (`make lint-floors`): every module under the root imports only from its
 * own folder or from a folder below it, in the order the floors file gives (lowest first;
 * "." is the root's own files). A reference is any string in the code that names a module
 * under the root: `import … from`, `export … from`, `import("…")`, a worker's
 * `new URL("…", import.meta.url)`, a table of module paths for a later `import()`.
 * JSDoc types (`import("…").Name` in a comment) load nothing and are not checked. Strings and
 * comments are told apart by a plain scan (a regular expression literal holding a quote would
 * mislead it; the browser code has none).
 *
 *   node tools/floors.mjs [--root static/js] [--floors static/js/floors.json]
 *
 * Prints each reference that points up (or into a folder the floors file does not name)
 * and exits 1; prints nothing and exits 0 when every reference points down.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

/** The code of a module with its comments blanked out (strings kept whole, lines kept). @param {string} text */
export function codeOf(text) {
  let out = "";
  for (let i = 0; i < text.length; ) {
    const two = text.slice(i, i + 2);
    if (two === "//" || two === "/*") {
      const end = two === "//" ? text.indexOf("\n", i) : text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : two === "//" ? end : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (`"'\``.includes(text[i])) {
      let j = i + 1;
      while (j < text.length && text[j] !== text[i]) j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else out += text[i++];
  }
  return out;
}

/**
 * The modules under the root that a module's code names, with their line numbers.
 * @param {string} text @param {string} file path of the module, relative to the root
 * @returns {Array<{line: number, specifier: string, target: string}>} target relative to the root
 */
export function referencesOf(text, file) {
  const code = codeOf(text);
  const found = [];
  for (const match of code.matchAll(/(["'`])((?:\.{1,2}\/|\/static\/js\/)[^"'`]*?\.js)(?=[?#"'`$])/g)) {
    const specifier = match[2];
    const target = specifier.startsWith("/static/js/")
      ? specifier.slice("/static/js/".length)
      : path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    if (target.startsWith("../")) continue; // outside the root: a vendored library
    found.push({ line: code.slice(0, match.index).split("\n").length, specifier, target });
  }
  return found;
}

/** The floor folder of a path relative to the root: its first folder, or "." for the root's own files. @param {string} file */
export const folderOf = (file) => (file.includes("/") ? file.slice(0, file.indexOf("/")) : ".");

/**
 * Every reference that does not point down, as one line each.
 * @param {string} root @param {string[]} floors folders, lowest first
 */
export function violations(root, floors) {
  const problems = [];
  for (const file of modulesUnder(root)) {
    const from = folderOf(file);
    const own = floors.indexOf(from);
    if (own < 0) {
      problems.push(`${path.join(root, file)}: its folder ${from} is on no floor of the floors file`);
      continue;
    }
    for (const { line, specifier, target } of referencesOf(fs.readFileSync(path.join(root, file), "utf8"), file)) {
      const to = folderOf(target);
      const floor = floors.indexOf(to);
      if (floor < 0) problems.push(`${path.join(root, file)}:${line}: "${specifier}" names folder ${to}, which is on no floor`);
      else if (floor > own) problems.push(`${path.join(root, file)}:${line}: "${specifier}" points up, from ${from} (floor ${own + 1}) to ${to} (floor ${floor + 1})`);
    }
  }
  return problems;
}

/** The .js files under `root`, relative to it, sorted. @param {string} root */
function modulesUnder(root) {
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".js"))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

function main() {
  const { values } = parseArgs({ options: { root: { type: "string", default: "static/js" }, floors: { type: "string" } } });
  const root = /** @type {string} */ (values.root);
  const floors = JSON.parse(fs.readFileSync(values.floors ?? path.join(root, "floors.json"), "utf8")).floors;
  const problems = violations(root, floors);
  for (const problem of problems) console.log(problem);
  if (problems.length) {
    console.log(`${problems.length} reference(s) against the floors (lowest first: ${floors.join(" < ")})`);
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
