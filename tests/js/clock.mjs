/**
 * A clock a test moves by hand: `setTimeout` (node:test's mock timers) and
 * `performance.now()` go forward together, and only when the test says so.
 * `setInterval` too where a test asks for it (`intervals: true`).
 * @param {import("node:test").TestContext} t @param {{intervals?: boolean}} [options]
 */
export function fakeClock(t, { intervals = false } = {}) {
  let now = 0;
  t.mock.timers.enable({ apis: intervals ? ["setTimeout", "setInterval"] : ["setTimeout"] });
  t.mock.method(performance, "now", () => now);
  return {
    get now() {
      return now;
    },
    /** Move on `ms` milliseconds, one at a time, letting every promise settle at each step. */
    async advance(ms) {
      for (let step = 0; step < ms; step += 1) {
        now += 1;
        t.mock.timers.tick(1);
        await settled();
      }
    },
    /** Move on until `condition()` holds; fails after `limitMs`. */
    async until(condition, limitMs = 60_000) {
      const end = now + limitMs;
      while (!condition()) {
        if (now >= end) throw new Error(`not within ${limitMs} ms of fake time`);
        await this.advance(1);
      }
    },
  };
}

/** Once every pending microtask (promise reaction) has run. */
export function settled() {
  return new Promise((resolve) => setImmediate(resolve));
}
