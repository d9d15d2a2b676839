/**
 * The shape of one benchmark run, as bench/results/*.json holds it. Every
 * figure the markdown table and the chart show comes from here, so the
 * three outputs cannot disagree.
 */

/** The four designs the issue compares, by their letter. */
export const DESIGNS = ['A', 'B', 'C', 'D'] as const;
export type Design = (typeof DESIGNS)[number];

/** What each design is, in one line, for tables and the chart legend. */
export const DESIGN_NAMES: Record<Design, string> = {
  A: 'bare grpc-js server (wire limit)',
  B: 'gateway, in-process sink',
  C: 'gateway, Pub/Sub emulator',
  D: 'naive: one message per item',
};

/** One load: how many items of what size over how many streams. */
export interface Point {
  /** Short stable name, e.g. `1KiB x8`; the ratios use `1KiB x8`. */
  id: string;
  payloadBytes: number;
  streams: number;
  items: number;
  /**
   * Times each design runs at this point (default 1); the run with the
   * median server CPU per item is the one recorded (bench/rounds.ts).
   */
  rounds?: number;
}

/** How a design fared at a point. */
export type Outcome = 'ok' | 'skipped' | 'failed';

/** Every figure of one design at one point; undefined where not measured. */
export interface Measurement {
  design: Design;
  point: string;
  outcome: Outcome;
  /** Why it was skipped or failed, or what was capped. */
  note?: string;
  payloadBytes: number;
  streams: number;
  /** Items actually sent (a design may be capped below the point's count). */
  items: number;
  durationMs?: number;
  itemsPerSecond?: number;
  /** Payload megabytes (10^6 bytes) per second. */
  megabytesPerSecond?: number;
  streamP50Ms?: number;
  streamP99Ms?: number;
  serverCpuUsPerItem?: number;
  serverPeakRssMb?: number;
  emulatorCpuUsPerItem?: number;
  /** Pub/Sub messages per million items (batches for B and C). */
  messagesPerMillionItems?: number;
  loadGeneratorCpuUsPerItem?: number;
}

/** The function's insert path or the bare client, into the emulator. */
export interface InsertMeasurement {
  mode: 'function' | 'bare';
  outcome: Outcome;
  note?: string;
  rows: number;
  requests?: number;
  durationMs?: number;
  rowsPerSecond?: number;
  clientCpuUsPerRow?: number;
  emulatorCpuUsPerRow?: number;
}

/** Where and when the run happened. */
export interface Machine {
  nproc: number;
  cpuModel: string;
  node: string;
  /** 1-minute load average before and after: other work skews figures. */
  loadAverageStart: number;
  loadAverageEnd: number;
}

/** The ratios the issue names, for the `1KiB x8` point. */
export interface Ratios {
  'B/A': number | null;
  'C/A': number | null;
  'D/C': number | null;
  'throughput C/A': number | null;
  'messages D/C': number | null;
  'function/bare': number | null;
}

/** A whole run. */
export interface BenchResults {
  date: string;
  quick: boolean;
  machine: Machine;
  ratios: Ratios;
  /** Each ratio's target, to show beside it; all are "at least". */
  targets: Record<keyof Ratios, number>;
  measurements: Measurement[];
  insertPath: InsertMeasurement[];
  checks: Checks;
  notes: string[];
}

/** The issue's targets that are not ratios. */
export interface Checks {
  /**
   * Per design, server CPU µs per item at 10^4, 10^5 and 10^6 items and
   * the spread (largest over smallest, minus one, in %); target ≤ 10 %.
   */
  cpuFlatness: Partial<
    Record<
      Design,
      {cpuUsPerItem: (number | null)[]; spreadPercent: number | null}
    >
  >;
  /** Gateway (C) peak RSS at 64 streams; target ≤ 256 MB. */
  gatewayPeakRssMbAt64Streams: number | null;
}
