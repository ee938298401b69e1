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
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
