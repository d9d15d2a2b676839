/** Measurements and results for the bench's unit tests. */
import {RATIO_TARGETS} from '../../../bench/ratios.js';
import type {
  BenchResults,
  Design,
  InsertMeasurement,
  Measurement,
} from '../../../bench/results-model.js';

/** An 'ok' measurement of `design` at `point` with the given figures. */
export function measurement(
  design: Design,
  point: string,
  figures: Partial<Measurement> = {},
): Measurement {
  return {
    design,
    point,
    outcome: 'ok',
    payloadBytes: 1024,
    streams: 8,
    items: 100_000,
    ...figures,
  };
}

/** An 'ok' insert measurement. */
export function insert(
  mode: InsertMeasurement['mode'],
  rowsPerSecond: number,
): InsertMeasurement {
  return {mode, outcome: 'ok', rows: 1000, rowsPerSecond};
}

/** A small complete run. */
export function results(overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    date: '2026-12-03T18:00:00.000Z',
    quick: false,
    machine: {
      nproc: 2,
      cpuModel: 'AMD EPYC',
      node: '24.22.3',
      loadAverageStart: 1.5,
      loadAverageEnd: 2.25,
    },
    ratios: {
      'B/A': 0.5,
      'C/A': 0.25,
      'D/C': 6,
      'throughput C/A': 0.4,
      'messages D/C': 330,
      'function/bare': null,
    },
    targets: RATIO_TARGETS,
    measurements: [
      measurement('A', '1KiB x8', {
        itemsPerSecond: 45_000,
        serverCpuUsPerItem: 9,
      }),
      measurement('C', '1KiB x8', {
        itemsPerSecond: 9_000,
        serverCpuUsPerItem: 36,
        emulatorCpuUsPerItem: 20,
        note: 'a | b',
      }),
      measurement('D', '1KiB x8', {outcome: 'skipped', note: 'too slow'}),
    ],
    insertPath: [insert('function', 2_000)],
    checks: {cpuFlatness: {}, gatewayPeakRssMbAt64Streams: 200},
    notes: ['a note'],
    ...overrides,
  };
}
