// What the page adds to the browser's globals.

interface Window {
  /** The room page's read-only test surface (static/js/main.js, docs/protocol.md). */
  ensemble: import("../static/js/main.js").TestSurface;
  /** The watch page's state, for tests and the broadcast benchmark. */
  ensembleWatch: { state: () => string; latency: () => number | null };
}
