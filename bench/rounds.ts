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
  const [first] = runs;
  if (first === undefined) throw new Error('no runs to reduce');
  if (runs.length === 1) return first;
  const unfinished = runs.find(
    m => m.outcome !== 'ok' || m.serverCpuUsPerItem === undefined,
  );
  if (unfinished !== undefined) return unfinished;

  const sorted = [...runs].sort(
    (a, b) => (a.serverCpuUsPerItem ?? 0) - (b.serverCpuUsPerItem ?? 0),
  );
  const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? first;
  const each = runs
    .map(m => formatFigure(m.serverCpuUsPerItem ?? Number.NaN))
    .join(', ');
  const note = `median of ${runs.length} runs by server CPU (${each} µs/item)`;
  return {
    ...median,
    note: median.note === undefined ? note : `${median.note}; ${note}`,
  };
}
