/**
 * The ratios, computed from the measurements of one run. Each is
 * "higher is better" and has a target; a ratio whose inputs are missing is
 * null, never a guess.
 */
import type {
  Design,
  InsertMeasurement,
  Measurement,
  Ratios,
} from './results-model.js';

/** The point every ratio is taken at. */
export const RATIO_POINT = '1KiB x8';

/** The targets, each a lower bound. */
export const RATIO_TARGETS: Record<keyof Ratios, number> = {
  'B/A': 0.8,
  'C/A': 0.7,
  'D/C': 5,
  'throughput C/A': 0.8,
  'messages D/C': 300,
  'function/bare': 0.9,
};

/** Computes every ratio from the measurements at RATIO_POINT. */
export function computeRatios(
  measurements: readonly Measurement[],
  insertPath: readonly InsertMeasurement[],
  point = RATIO_POINT,
): Ratios {
  const at = (design: Design) =>
    measurements.find(
      m => m.design === design && m.point === point && m.outcome === 'ok',
    );
  const a = at('A');
  const b = at('B');
  const c = at('C');
  const d = at('D');
  const insert = (mode: InsertMeasurement['mode']) =>
    insertPath.find(m => m.mode === mode && m.outcome === 'ok');

  return {
    'B/A': divide(a?.serverCpuUsPerItem, b?.serverCpuUsPerItem),
    'C/A': divide(a?.serverCpuUsPerItem, c?.serverCpuUsPerItem),
    'D/C': divide(totalCpu(d), totalCpu(c)),
    'throughput C/A': divide(c?.itemsPerSecond, a?.itemsPerSecond),
    'messages D/C': divide(
      d?.messagesPerMillionItems,
      c?.messagesPerMillionItems,
    ),
    'function/bare': divide(
      insert('function')?.rowsPerSecond,
      insert('bare')?.rowsPerSecond,
    ),
  };
}

/** Server plus emulator CPU per item; undefined unless both are known. */
export function totalCpu(m: Measurement | undefined): number | undefined {
  if (m?.serverCpuUsPerItem === undefined) return undefined;
  if (m.emulatorCpuUsPerItem === undefined) return undefined;
  return m.serverCpuUsPerItem + m.emulatorCpuUsPerItem;
}

/** `top / bottom`, or null when either is missing or bottom is zero. */
export function divide(
  top: number | undefined,
  bottom: number | undefined,
): number | null {
  if (top === undefined || bottom === undefined || bottom === 0) return null;
  return top / bottom;
}

/** Whether each ratio meets its target; null where the ratio is. */
export function targetsMet(
  ratios: Ratios,
): Record<keyof Ratios, boolean | null> {
  const met = {} as Record<keyof Ratios, boolean | null>;
  for (const key of Object.keys(RATIO_TARGETS) as (keyof Ratios)[]) {
    const value = ratios[key];
    met[key] = value === null ? null : value >= RATIO_TARGETS[key];
  }
  return met;
}
