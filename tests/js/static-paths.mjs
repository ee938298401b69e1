/**
 * Module resolution for the browser code under Node (registered by register.mjs).
 *
 * - "/static/…" is a path on the page's server (the vendored libraries, e.g. schema.js's
 *   "/static/vendor/json-schema/index.js"); here it is the repository's static/ folder,
 *   not the root of the filesystem.
 * - The .js files under static/ are ES modules, as the page loads them (the repository's
 *   package.json has no "type", so Node would otherwise guess, and warn).
 */
const STATIC = new URL("../../static/", import.meta.url);

export async function resolve(specifier, context, nextResolve) {
  const onPage = specifier.startsWith("/static/");
  const resolved = await nextResolve(onPage ? new URL(specifier.slice("/static/".length), STATIC).href : specifier, context);
  return resolved.url.startsWith(STATIC.href) && resolved.url.endsWith(".js") ? { ...resolved, format: "module" } : resolved;
}
