/**
 * A bounded soak of the whole local stack: many concurrent streams for a
 * fixed time, each retried under its own idempotency key when it fails
 * retryably, then a comparison of what the gateway acknowledged with what
 * the dedup view holds. `npm run soak` (local/soak.ts) prints the report;
 * a short run is part of the reliability tests.
 */
import {randomUUID} from 'node:crypto';
import {performance} from 'node:perf_hooks';
import {setTimeout as sleep} from 'node:timers/promises';
import {processPeakRssBytes} from '../bench/proc-stats.js';
import type {ItemMessage} from '../generated/items.js';
import {connect, parseTarget} from '../producer/connection.js';
import {sendStream, type StreamOutcome} from '../producer/stream-sender.js';
import {
  integer,
  resolveSettings,
  type ResolvedSettings,
} from '../runtime/settings.js';
import {freePort} from './processes.js';
import {resolveLocalSettings} from './settings.js';
import {startStack, type RunningStack} from './stack.js';

export const SOAK_SETTINGS = {
  streams: {
    env: 'SOAK_STREAMS',
    default: '200',
    description: 'Streams open at any moment; each starts the next when done.',
    parse: integer(1, 5_000),
  },
  durationMs: {
    env: 'SOAK_DURATION_MS',
    default: '60000',
    description: 'How long new streams are started; the view is read after.',
    parse: integer(1_000, 3_600_000),
  },
  itemsPerStream: {
    env: 'SOAK_ITEMS_PER_STREAM',
    default: '200',
    description: 'Items of each stream.',
    parse: integer(1, 1_000_000),
  },
  payloadBytes: {
    env: 'SOAK_PAYLOAD_BYTES',
    default: '100',
    description: 'Payload size of every item.',
    parse: integer(0, 262_144),
  },
  rateItemsPerSecond: {
    env: 'SOAK_RATE_ITEMS_PER_SECOND',
    default: '2000',
    description:
      'Items per second over all streams; 0 sends flat out. The default ' +
      'stays within what the BigQuery emulator inserts on two cores, so ' +
      'the view catches up with what was acknowledged.',
    parse: integer(0, 1_000_000),
  },
  maxAttempts: {
    env: 'SOAK_MAX_ATTEMPTS',
    default: '5',
    description: 'Attempts of a stream that fails with a retryable status.',
    parse: integer(1, 100),
  },
  drainTimeoutMs: {
    env: 'SOAK_DRAIN_TIMEOUT_MS',
    default: '180000',
    description:
      'How long to wait after the run for the view to hold every ' +
      'acknowledged item before counting the rest as lost.',
    parse: integer(1_000, 3_600_000),
  },
} as const;

export type SoakSettings = ResolvedSettings<typeof SOAK_SETTINGS>;

export function resolveSoakSettings(
  env: NodeJS.ProcessEnv = process.env,
): SoakSettings {
  return resolveSettings(SOAK_SETTINGS, env);
}

/** What a soak saw; `lost` and `duplicates` must both be 0. */
export interface SoakReport {
  streams: number;
  attempts: number;
  itemsSent: number;
  itemsAcknowledged: number;
  itemsStored: number;
  /** Acknowledged items missing from the view after the drain timeout. */
  lost: number;
  /** Extra copies of an item in the view. */
  duplicates: number;
  /** Rows in the items table, copies included (the view hides them). */
  tableRows: number;
  /** Failed attempts, by status name. */
  errorsByStatus: Record<string, number>;
  gatewayPeakRssBytes: number | undefined;
  sendingMs: number;
  drainMs: number;
}

/** One stream as the soak knows it after all its attempts. */
interface StreamRecord {
  id: string;
  itemCount: number;
  /** Longest prefix any attempt had acknowledged. */
  acknowledged: number;
}

/** Starts a stack on free ports, soaks it, stops it, returns the report. */
export async function runSoak(
  settings: SoakSettings,
  say: (line: string) => void = () => {},
): Promise<SoakReport> {
  const ports = await Promise.all(Array.from({length: 5}, () => freePort()));
  const [gateway, fn, pubsub, bigquery, grpc] = ports.map(String);
  const stack = await startStack(
    resolveLocalSettings({
      ...process.env,
      LOCAL_GATEWAY_PORT: gateway,
      LOCAL_FUNCTION_PORT: fn,
      LOCAL_PUBSUB_PORT: pubsub,
      LOCAL_BIGQUERY_PORT: bigquery,
      LOCAL_BIGQUERY_GRPC_PORT: grpc,
    }),
    {say},
  );
  try {
    return await soak(stack, settings, say);
  } finally {
    await stack.stop();
  }
}

async function soak(
  stack: RunningStack,
  settings: SoakSettings,
  say: (line: string) => void,
): Promise<SoakReport> {
  const run = randomUUID().slice(0, 8);
  const client = connect(parseTarget(stack.endpoints.gateway));
  const payload = Buffer.alloc(settings.payloadBytes, 0x5a);
  const item: ItemMessage = {createdAt: '2026-03-04T05:06:07.123456Z', payload};
  const pace =
    settings.rateItemsPerSecond === 0
      ? undefined
      : pacer(settings.rateItemsPerSecond);
  const streams: StreamRecord[] = [];
  const errorsByStatus: Record<string, number> = {};
  let itemsSent = 0;
  let attempts = 0;

  say(`soaking with ${settings.streams} streams for ${settings.durationMs} ms`);
  const started = performance.now();
  const endAt = started + settings.durationMs;
  const lane = async (laneIndex: number) => {
    for (let n = 0; performance.now() < endAt; n++) {
      const record: StreamRecord = {
        id: `soak-${run}-${laneIndex}-${n}`,
        itemCount: settings.itemsPerStream,
        acknowledged: 0,
      };
      streams.push(record);
      for (let a = 1; a <= settings.maxAttempts; a++) {
        attempts++;
        const outcome = await sendStream(client, {
          idempotencyKey: record.id,
          itemCount: record.itemCount,
          itemAt: () => item,
          maxAttempts: 1,
          backoffMs: 0,
          attemptTimeoutMs: 120_000,
          pace,
          onItemSent: () => itemsSent++,
        });
        record.acknowledged = Math.max(
          record.acknowledged,
          acknowledgedBy(outcome, record.itemCount),
        );
        if (outcome.ok) break;
        const code = outcome.error?.code ?? 'UNKNOWN';
        errorsByStatus[code] = (errorsByStatus[code] ?? 0) + 1;
        if (!RETRYABLE.has(code)) break;
        await sleep(100 * a);
      }
    }
  };
  await Promise.all(Array.from({length: settings.streams}, (_, i) => lane(i)));
  const sendingMs = performance.now() - started;
  client.close();

  const itemsAcknowledged = streams.reduce((n, s) => n + s.acknowledged, 0);
  say(
    `sent ${itemsSent} items, ${itemsAcknowledged} acknowledged; ` +
      'waiting for the view',
  );
  const drainStarted = performance.now();
  const view = await drain(stack, run, streams, settings.drainTimeoutMs);
  const drainMs = performance.now() - drainStarted;
  const pid = stack.gateway.child.pid;

  return {
    streams: streams.length,
    attempts,
    itemsSent,
    itemsAcknowledged,
    itemsStored: view.stored,
    lost: view.lost,
    duplicates: view.duplicates,
    tableRows: await tableRows(stack, run),
    errorsByStatus,
    gatewayPeakRssBytes:
      pid === undefined ? undefined : processPeakRssBytes(pid),
    sendingMs,
    drainMs,
  };
}

/** Statuses after which the soak resends a stream under the same key. */
const RETRYABLE = new Set([
  'UNAVAILABLE',
  'RESOURCE_EXHAUSTED',
  'DEADLINE_EXCEEDED',
  'ABORTED',
  'INTERNAL',
]);

function acknowledgedBy(outcome: StreamOutcome, itemCount: number): number {
  return outcome.ok ? itemCount : (outcome.itemsAccepted ?? 0);
}

/** The n-th item overall is due n / rate seconds after the first. */
function pacer(itemsPerSecond: number): () => Promise<void> {
  const start = performance.now();
  let scheduled = 0;
  return async () => {
    scheduled++;
    const wait =
      start + (scheduled * 1000) / itemsPerSecond - performance.now();
    if (wait > 2) await sleep(wait);
  };
}

interface StreamCounts {
  copies: number;
  distinct_items: number;
}

/**
 * Polls the view until every acknowledged item is there or `timeoutMs`
 * passed. Counting per stream keeps the query small: every attempt sends
 * ordinals 0 to n-1 only, so a fully acknowledged stream misses exactly
 * n minus its distinct ordinals. A partly acknowledged one (its last
 * attempt failed) is checked item by item.
 */
async function drain(
  stack: RunningStack,
  run: string,
  streams: StreamRecord[],
  timeoutMs: number,
): Promise<{stored: number; lost: number; duplicates: number}> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await viewCounts(stack, run);
    let stored = 0;
    let duplicates = 0;
    let lost = 0;
    const partial: StreamRecord[] = [];
    for (const stream of streams) {
      const seen = counts.get(stream.id);
      const distinct = seen?.distinct_items ?? 0;
      stored += distinct;
      duplicates += (seen?.copies ?? 0) - distinct;
      if (stream.acknowledged === stream.itemCount) {
        lost += stream.itemCount - distinct;
      } else if (stream.acknowledged > 0) {
        partial.push(stream);
      }
    }
    const lastLook = lost > 0 && Date.now() > deadline;
    if (lost === 0 || lastLook) {
      for (const stream of partial) {
        lost += await missingPrefix(stack, stream);
      }
      if (lost === 0 || lastLook) return {stored, lost, duplicates};
    }
    await sleep(2_000);
  }
}

/** Acknowledged ordinals of `stream` that the view does not hold. */
async function missingPrefix(
  stack: RunningStack,
  stream: StreamRecord,
): Promise<number> {
  const {dataset, dedupView} = stack.settings;
  const [rows] = (await stack.bigqueryClient.query(
    `SELECT item_index FROM \`${dataset}.${dedupView}\` ` +
      `WHERE stream_id = '${stream.id}'`,
  )) as [{item_index: number}[], ...unknown[]];
  const present = new Set(rows.map(row => Number(row.item_index)));
  let missing = 0;
  for (let i = 0; i < stream.acknowledged; i++) {
    if (!present.has(i)) missing++;
  }
  return missing;
}

async function viewCounts(
  stack: RunningStack,
  run: string,
): Promise<Map<string, StreamCounts>> {
  const {dataset, dedupView} = stack.settings;
  const [rows] = (await stack.bigqueryClient.query(
    'SELECT stream_id, COUNT(*) AS copies, ' +
      'COUNT(DISTINCT item_index) AS distinct_items ' +
      `FROM \`${dataset}.${dedupView}\` ` +
      `WHERE STARTS_WITH(stream_id, 'soak-${run}-') GROUP BY stream_id`,
  )) as [(StreamCounts & {stream_id: string})[], ...unknown[]];
  return new Map(
    rows.map(row => [
      row.stream_id,
      {copies: Number(row.copies), distinct_items: Number(row.distinct_items)},
    ]),
  );
}

async function tableRows(stack: RunningStack, run: string): Promise<number> {
  const {dataset, table} = stack.settings;
  const [rows] = (await stack.bigqueryClient.query(
    `SELECT COUNT(*) AS n FROM \`${dataset}.${table}\` ` +
      `WHERE STARTS_WITH(stream_id, 'soak-${run}-')`,
  )) as [{n: number}[], ...unknown[]];
  return Number(rows[0]?.n ?? 0);
}

/** The report as an aligned two-column table. */
export function formatSoakReport(report: SoakReport): string {
  const errors = Object.entries(report.errorsByStatus);
  const lines: [string, string][] = [
    ['streams', String(report.streams)],
    ['attempts', String(report.attempts)],
    ['items sent', String(report.itemsSent)],
    ['items acknowledged', String(report.itemsAcknowledged)],
    ['items stored (dedup view)', String(report.itemsStored)],
    ['acknowledged but lost', String(report.lost)],
    ['duplicates in the view', String(report.duplicates)],
    ['rows in the table (copies too)', String(report.tableRows)],
    ...errors.map(([code, n]): [string, string] => [
      `failed attempts ${code}`,
      String(n),
    ]),
    ...(errors.length === 0
      ? [['failed attempts', '0'] as [string, string]]
      : []),
    [
      'gateway peak RSS (VmHWM)',
      report.gatewayPeakRssBytes === undefined
        ? 'unknown'
        : `${(report.gatewayPeakRssBytes / 1024 / 1024).toFixed(1)} MiB`,
    ],
    ['sending', `${(report.sendingMs / 1000).toFixed(1)} s`],
    ['view caught up after', `${(report.drainMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...lines.map(([name]) => name.length));
  return lines
    .map(([name, value]) => `${name.padEnd(width)}  ${value}`)
    .join('\n');
}
