/**
 * The middle of `values` (the mean of the two middle ones for an even count), null for none.
 * @param {number[]} values
 */
export function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Median milliseconds of `runs` calls of `run` (sync or async), after one warm-up call.
 * @param {() => unknown} run @param {number} runs
 */
export async function medianMs(run, runs) {
  await run();
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return /** @type {number} */ (median(times));
}

/** Milliseconds since the epoch to a fraction of a ms, the same in a page and its workers (unlike `performance.now()`). */
export function epochMs() {
  return performance.timeOrigin + performance.now();
}
