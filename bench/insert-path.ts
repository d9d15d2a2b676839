/**
 * Runs the insert-path comparison: one BigQuery emulator, one table pair
 * per mode, the function's path and the bare client each in a process of
 * their own, and the emulator's CPU read from /proc around each.
 */
import {join} from 'node:path';
import {BigQuery} from '@google-cloud/bigquery';
import {ensureTables} from '../functions/tables.js';
import {startBigQueryEmulator} from '../local/emulators.js';
import {repoRoot} from '../local/paths.js';
import {startProcess} from '../local/processes.js';
import type {InsertReport, InsertSpec} from './function-insert.js';
import {cpuUsBetween, groupCpuSample} from './proc-stats.js';
import type {InsertMeasurement} from './results-model.js';
import {medianOf} from './rounds.js';

const DATASET = 'bench';

/**
 * Measures both modes with `rows` rows each, `rounds` times in turn
 * (function, bare, function, bare, ...), keeping each mode's median run by
 * rows/s; never throws.
 */
export async function runInsertPath(options: {
  rows: number;
  batchItems: number;
  rounds: number;
  timeCapMs: number;
  say: (line: string) => void;
}): Promise<InsertMeasurement[]> {
  const modes = ['function', 'bare'] as const;
  // A partial run with --no-insert.
  if (options.rows === 0) return [];
  let emulator;
  try {
    emulator = await startBigQueryEmulator();
  } catch (err) {
    const note = `BigQuery emulator did not start: ${String(err)}`;
    return modes.map(mode => ({mode, outcome: 'failed', rows: 0, note}));
  }

  try {
    const pgrp = emulator.process?.child.pid;
    const client = new BigQuery({
      projectId: emulator.projectId,
      apiEndpoint: emulator.endpoint,
    });
    const runs = new Map<string, InsertMeasurement[]>();
    for (let round = 1; round <= options.rounds; round++) {
      for (const mode of modes) {
        const spec: InsertSpec = {
          mode,
          endpoint: emulator.endpoint,
          projectId: emulator.projectId,
          // The emulator answers a second create of a dataset with 500, not
          // 409, so each mode and round gets its own, empty tables included.
          dataset: `${DATASET}_${mode}_${round}`,
          table: `items_${mode}`,
          errorsTable: `errors_${mode}`,
          rows: options.rows,
          batchItems: options.batchItems,
          payloadBytes: 1024,
        };
        try {
          await ensureTables(client, {
            projectId: spec.projectId,
            dataset: spec.dataset,
            table: spec.table,
            errorsTable: spec.errorsTable,
            dedupView: `dedup_${mode}`,
          });
        } catch (err) {
          const note = `tables not created: ${String(err)}`;
          const failed: InsertMeasurement = {
            mode,
            outcome: 'failed',
            rows: 0,
            note,
          };
          runs.set(mode, [...(runs.get(mode) ?? []), failed]);
          continue;
        }
        const label =
          `insert path, ${mode}` +
          (options.rounds > 1 ? ` (run ${round} of ${options.rounds})` : '');
        options.say(`${label}: ${options.rows} rows`);
        const m = await measure(spec, pgrp, options.timeCapMs);
        options.say(
          `${label}: ${m.outcome}, ${Math.round(m.rowsPerSecond ?? 0)} rows/s`,
        );
        runs.set(mode, [...(runs.get(mode) ?? []), m]);
      }
    }
    return modes.map(mode =>
      medianOf(runs.get(mode) ?? [], m => m.rowsPerSecond, 'rows/s'),
    );
  } finally {
    await emulator.stop();
  }
}

async function measure(
  spec: InsertSpec,
  emulatorPgrp: number | undefined,
  timeCapMs: number,
): Promise<InsertMeasurement> {
  const script = join(repoRoot(), 'dist', 'bench', 'function-insert.js');
  const child = startProcess(`insert ${spec.mode}`, process.execPath, [
    script,
    JSON.stringify(spec),
  ]);
  let stdout = '';
  child.child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  const emulatorBefore =
    emulatorPgrp === undefined ? undefined : groupCpuSample(emulatorPgrp);
  const timer = setTimeout(() => child.signal('SIGKILL'), timeCapMs);
  const code = await child.exited;
  clearTimeout(timer);
  const emulatorAfter =
    emulatorPgrp === undefined ? undefined : groupCpuSample(emulatorPgrp);
  await child.stop();

  if (code !== 0) {
    return {
      mode: spec.mode,
      outcome: 'failed',
      rows: spec.rows,
      note: `exited with ${code}: ${child.recentOutput.slice(-3).join(' | ')}`,
    };
  }
  const report = JSON.parse(stdout) as InsertReport;
  return {
    mode: spec.mode,
    outcome: 'ok',
    rows: report.rows,
    requests: report.requests,
    durationMs: report.elapsedMs,
    rowsPerSecond: report.rows / (report.elapsedMs / 1000),
    clientCpuUsPerRow: report.cpuUs / report.rows,
    // The child's set-up (building envelopes) costs the emulator nothing,
    // so its CPU over the child's life is the inserts' CPU.
    emulatorCpuUsPerRow:
      emulatorBefore === undefined || emulatorAfter === undefined
        ? undefined
        : cpuUsBetween(emulatorBefore, emulatorAfter) / report.rows,
  };
}
