/** Number formatting shared by the markdown table and the chart. */

/** A figure with about three significant digits; "–" when missing. */
export function formatFigure(value: number | undefined | null): string {
  if (value === undefined || value === null || !Number.isFinite(value)) {
    return '–';
  }
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
