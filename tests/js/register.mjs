/**
 * Lets `node --test` load the browser modules as the page does, with no change to them:
 * `node --import ./tests/js/register.mjs --test tests/js/`. See static-paths.mjs.
 */
import { register } from "node:module";

register("./static-paths.mjs", import.meta.url);
