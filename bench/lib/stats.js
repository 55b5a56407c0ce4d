/** The `p`-quantile (0..1) of `values`, by linear interpolation; NaN if empty. */
export function quantile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

export const median = (values) => quantile(values, 0.5);

export const sum = (values) => values.reduce((a, b) => a + b, 0);

/** CPU microseconds (user + system) between two `process.cpuUsage()` readings. */
export function cpuMicros(before, after) {
  return after.user - before.user + (after.system - before.system);
}
