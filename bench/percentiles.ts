/** Percentiles of stream completion times. */

/**
 * The p-th percentile (0 to 100) of `values` by the nearest-rank method:
 * the smallest value with at least p % of the values at or below it.
 */
export function percentile(
  values: readonly number[],
  p: number,
): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}
