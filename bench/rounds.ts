/**
 * Repeated runs of one design at one point, reduced to one measurement.
 * On a shared 2-core machine a single run of a few seconds moved by tens of
 * percent between runs minutes apart (design C at 1KiB x8: 17 to 26
 * µs/item with no code change), so the points the targets are read from
 * run several times, the designs interleaved, and the median run is kept.
 */
import {formatFigure} from './format.js';
import type {Measurement} from './results-model.js';

/**
 * The run with the median server CPU per item (the lower middle of an even
 * count), whole, so its figures stay consistent with each other; its note
 * lists every run. A run that did not finish makes the result that run:
 * a point that failed once is not reported as if it had not.
 */
export function medianRun(runs: readonly Measurement[]): Measurement {
  return medianOf(runs, m => m.serverCpuUsPerItem, 'server CPU', 'µs/item');
}

/**
 * The run whose `value` is the median (the lower middle of an even count),
 * with a note listing every run's value; a run that is not ok or has no
 * value is returned instead.
 */
export function medianOf<T extends {outcome: string; note?: string}>(
  runs: readonly T[],
  value: (run: T) => number | undefined,
  by: string,
  unit = by,
): T {
  const [first] = runs;
  if (first === undefined) throw new Error('no runs to reduce');
  if (runs.length === 1) return first;
  const unfinished = runs.find(
    m => m.outcome !== 'ok' || value(m) === undefined,
  );
  if (unfinished !== undefined) return unfinished;

  const sorted = [...runs].sort((a, b) => (value(a) ?? 0) - (value(b) ?? 0));
  const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? first;
  const each = runs.map(m => formatFigure(value(m))).join(', ');
  const note =
    by === unit
      ? `median of ${runs.length} runs (${each} ${unit})`
      : `median of ${runs.length} runs by ${by} (${each} ${unit})`;
  return {
    ...median,
    note: median.note === undefined ? note : `${median.note}; ${note}`,
  };
}
