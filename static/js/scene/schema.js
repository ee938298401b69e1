import { Validator } from "/static/vendor/json-schema/index.js";

/**
 * The scene schema (config/scene.schema.json, the same file the server checks
 * with) in the browser: `check` answers whether a scene is valid and, if not,
 * which field is wrong and why, in the server's words where they agree.
 *
 * @typedef {Record<string, any>} SchemaDocument JSON, walked here by JSON pointer
 * @typedef {import("/static/vendor/json-schema/index.js").OutputUnit} OutputUnit one of cfworker's errors
 */
export class SceneSchema {
  #schema;
  #validator;

  /** @param {SchemaDocument} schema */
  constructor(schema) {
    this.#schema = schema;
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
    return { valid: false, field, message: `${field ? `Scene field ${field}` : "Scene"}: ${this.#describe(deepest)}` };
  }

  /**
   * The schema's own words for the failed keyword (`x-messages`, which the server uses too),
   * else cfworker's: 'Instance does not match…', 'Property "x" does not match…'.
   * @param {{keyword: string, keywordLocation: string, error: string}} error
   */
  #describe(error) {
    const steps = pointerSteps(error.keywordLocation).slice(0, -1);
    // cfworker's keywordLocation runs through each `$ref` ("…/image/$ref/pattern"): follow it.
    const where = steps.reduce((node, step) => (step === "$ref" ? resolve(this.#schema, node.$ref) : node?.[step]), this.#schema);
    return where?.["x-messages"]?.[error.keyword] ?? error.error.replace(/^Instance /, "value ");
  }
}

/** `#/participants/0/scale` → `participants[0].scale` (the server's spelling). @param {string} location */
export function fieldPath(location) {
  return pointerSteps(location).reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), "");
}

/** The steps of a JSON pointer in a URI fragment: `#/a~1b/0` → `["a/b", "0"]`. @param {string} location */
function pointerSteps(location) {
  return location
    .replace(/^#\/?/, "")
    .split("/")
    .filter(Boolean)
    .map((part) => decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** What a reference within the schema (`#/$defs/image`) points to, or undefined. @param {SchemaDocument} schema @param {string} ref */
function resolve(schema, ref) {
  return ref?.startsWith("#") ? pointerSteps(ref).reduce((node, step) => node?.[step], schema) : undefined;
}

/** @param {OutputUnit} error */
function depth(error) {
  return error.instanceLocation.split("/").length * 10 + (error.keyword === "$ref" || error.keyword === "items" || error.keyword === "properties" ? 0 : 1);
}
