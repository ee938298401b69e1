import { Validator } from "/static/vendor/json-schema/index.js";

/**
 * The scene schema (config/scene.schema.json, the same file the server checks
 * with) in the browser: `check` answers whether a scene is valid and, if not,
 * which field is wrong and why, in the server's words where they agree.
 */
export class SceneSchema {
  #validator;

  /** @param {object} schema */
  constructor(schema) {
    this.#validator = new Validator(schema, "2020-12", false);
  }

  static async load(url = "/api/scene-schema") {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`The scene schema could not be loaded (${response.status}).`);
    return new SceneSchema(await response.json());
  }

  /**
   * @param {unknown} scene
   * @returns {{valid: true} | {valid: false, field: string, message: string}}
   */
  check(scene) {
    const { valid, errors } = this.#validator.validate(scene);
    if (valid) return { valid: true };
    // The deepest error says most: "participants[0].scale must be ≤ 4" rather than "items failed".
    const deepest = errors.reduce((best, error) => (depth(error) > depth(best) ? error : best), errors[0]);
    const field = fieldPath(deepest.instanceLocation);
    return { valid: false, field, message: `${field ? `Scene field ${field}` : "Scene"}: ${describe(deepest)}` };
  }
}

/** `#/participants/0/scale` → `participants[0].scale` (the server's spelling). */
export function fieldPath(location) {
  return location
    .replace(/^#\/?/, "")
    .split("/")
    .filter(Boolean)
    .map((part) => decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), "");
}

function depth(error) {
  return error.instanceLocation.split("/").length * 10 + (error.keyword === "$ref" || error.keyword === "items" || error.keyword === "properties" ? 0 : 1);
}

function describe(error) {
  if (error.keyword === "pattern" && /image$/.test(error.instanceLocation)) {
    return "must be a picture served here: a path starting with /static/ or /uploads/.";
  }
  if (error.keyword === "anyOf" && error.instanceLocation.includes("/overlays/")) {
    return "an overlay needs either an `anchor` or both `x` and `y`.";
  }
  // cfworker's words: 'Instance does not match…', 'Property "x" does not match…'
  return error.error.replace(/^Instance /, "value ");
}
