/**
 * The targets that are not ratios: CPU per item flat across item
 * counts, and the gateway's peak memory at 64 streams. Pure.
 */
import {DESIGNS, type Checks, type Measurement} from './results-model.js';

/** The points of the item-count series, smallest first. */
export const SCALE_POINTS = ['10^4 items', '1KiB x8', '10^6 items'] as const;

/** The point the memory target is taken at. */
export const MEMORY_POINT = '1KiB x64';

/** Computes the checks from the measurements. */
export function computeChecks(measurements: readonly Measurement[]): Checks {
  const ok = (design: string, point: string) =>
    measurements.find(
      m => m.design === design && m.point === point && m.outcome === 'ok',
    );
  const cpuFlatness: Checks['cpuFlatness'] = {};
  for (const design of DESIGNS) {
    const cpuUsPerItem = SCALE_POINTS.map(
      point => ok(design, point)?.serverCpuUsPerItem ?? null,
    );
    if (cpuUsPerItem.every(value => value === null)) continue;
    cpuFlatness[design] = {cpuUsPerItem, spreadPercent: spread(cpuUsPerItem)};
  }
  return {
    cpuFlatness,
    gatewayPeakRssMbAt64Streams: ok('C', MEMORY_POINT)?.serverPeakRssMb ?? null,
  };
}

/**
 * Largest over smallest, minus one, in percent; null unless every value is
 * known and positive.
 */
export function spread(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && v > 0);
  if (known.length !== values.length || known.length === 0) return null;
  return (Math.max(...known) / Math.min(...known) - 1) * 100;
}
