/**
 * What a run measures: the points, the caps that keep each point
 * bounded in time, and the small version CI runs. Every limit of the
 * benchmark is declared here, once.
 */
import type {Design, Point} from './results-model.js';
import {DESIGNS} from './results-model.js';

const KiB = 1024;

/** A whole run's parameters. */
export interface Plan {
  quick: boolean;
  designs: readonly Design[];
  points: readonly Point[];
  /** Longest one design may take at one point before it is skipped. */
  timeCapMs: number;
  /**
   * Items a design may send at most at any point. D publishes one message
   * per item into an emulator that takes a few thousand a second, so 10^6
   * items would take many minutes; it is capped and the note says so.
   */
  itemCaps: Partial<Record<Design, number>>;
  /** Distinct frames the load generator encodes and cycles through. */
  distinctItems: number;
  /**
   * Payload bytes of each of the two unmeasured loads before every
   * measured one (run-point.ts), so that V8's compilation is not counted
   * per item.
   */
  warmupBytes: number;
  /**
   * Items of 1 KiB that C and D each send, unmeasured, before the first
   * point: the emulator is one JVM for the whole run, and until its JIT has
   * compiled the publish path the first point measured its compiler (C's
   * emulator CPU at 1KiB x8 was 21-30 µs/item cold, 3.7 warm).
   */
  emulatorWarmupItems: number;
  /** Rows sent through the function's insert path, and the bare client. */
  insertRows: number;
  /**
   * Times each insert mode runs, in turn; the median by rows/s is kept
   * (function/bare moved 0.81-0.90 between single runs).
   */
  insertRounds: number;
  /** Items per batch in the insert check, the gateway's default. */
  insertBatchItems: number;
  /** Where the JSON goes, relative to bench/results/. */
  resultsName: string;
  /**
   * Only some designs, points or the insert path (--designs, --points,
   * --no-insert, --only-insert): JSON to partial.json, no table or chart.
   */
  partial?: boolean;
}

/** The full benchmark of `npm run bench`. */
export const FULL_PLAN: Plan = {
  quick: false,
  designs: DESIGNS,
  points: [
    // The ratio point, also the 10^5 step of the item-count series. It and
    // the short 10^4 point run three times each (see rounds.ts).
    {id: '1KiB x8', payloadBytes: KiB, streams: 8, items: 100_000, rounds: 3},
    {id: '1KiB x1', payloadBytes: KiB, streams: 1, items: 100_000},
    {id: '1KiB x64', payloadBytes: KiB, streams: 64, items: 100_000},
    {id: '100B x8', payloadBytes: 100, streams: 8, items: 100_000},
    // 10^4 items of 64 KiB are 655 MB, as many bytes as 640,000 of 1 KiB.
    {id: '64KiB x8', payloadBytes: 64 * KiB, streams: 8, items: 10_000},
    {id: '10^4 items', payloadBytes: KiB, streams: 8, items: 10_000, rounds: 3},
    {id: '10^6 items', payloadBytes: KiB, streams: 8, items: 1_000_000},
  ],
  timeCapMs: 240_000,
  itemCaps: {D: 100_000},
  distinctItems: 256,
  warmupBytes: 20 * 1024 * KiB,
  emulatorWarmupItems: 100_000,
  insertRows: 10_000,
  insertRounds: 3,
  insertBatchItems: 500,
  resultsName: 'latest',
};

/** `npm run bench -- --quick`: one small point per design, for CI. */
export const QUICK_PLAN: Plan = {
  quick: true,
  designs: DESIGNS,
  points: [{id: '1KiB x8', payloadBytes: KiB, streams: 8, items: 2_000}],
  timeCapMs: 60_000,
  itemCaps: {},
  distinctItems: 64,
  warmupBytes: 0,
  emulatorWarmupItems: 0,
  insertRows: 500,
  insertRounds: 1,
  insertBatchItems: 500,
  resultsName: 'quick',
};
