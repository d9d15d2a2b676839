/**
 * `npm run demo`: the whole pipeline, proven on a sample. Starts the local
 * stack on free ports, streams synthetic items over several streams, waits
 * until every item is queryable in the dedup view, checks each row against
 * the item that was sent, prints what it found, and stops the stack. Exits 0
 * only if every item arrived exactly once with exact values.
 *
 * Settings (environment): DEMO_ITEMS (10000), DEMO_STREAMS (4),
 * DEMO_PAYLOAD_BYTES (512), DEMO_DELIVERY_TIMEOUT_MS (120000).
 */
import {performance} from 'node:perf_hooks';
import {randomUUID} from 'node:crypto';
import {setTimeout as sleep} from 'node:timers/promises';
import type {BigQuery} from '@google-cloud/bigquery';
import {integer, resolveSettings} from '../runtime/settings.js';
import {parseTarget} from '../producer/connection.js';
import {
  formatMicros,
  syntheticItem,
  syntheticMicros,
  type SyntheticSpec,
} from '../producer/item-source.js';
import {produce} from '../producer/produce.js';
import {progressLine} from '../producer/progress.js';
import {probeBytesStorage, storedBytes} from './bigquery-readback.js';
import {freePort, setSignalHandling} from './processes.js';
import {resolveLocalSettings, type LocalSettings} from './settings.js';
import {startStack, type RunningStack} from './stack.js';

const DEMO_SETTINGS = {
  items: {
    env: 'DEMO_ITEMS',
    default: '10000',
    description: 'Items to stream in all.',
    parse: integer(1, 10_000_000),
  },
  streams: {
    env: 'DEMO_STREAMS',
    default: '4',
    description: 'Concurrent streams to spread them over.',
    parse: integer(1, 1_000),
  },
  payloadBytes: {
    env: 'DEMO_PAYLOAD_BYTES',
    default: '512',
    description: 'Size of each synthetic payload.',
    parse: integer(0, 1_048_576),
  },
  deliveryTimeoutMs: {
    env: 'DEMO_DELIVERY_TIMEOUT_MS',
    default: '120000',
    description: 'How long to wait for every item to reach BigQuery.',
    parse: integer(1_000, 3_600_000),
  },
} as const;

const say = (line: string) => process.stdout.write(`${line}\n`);
const timings: [string, number][] = [];

async function timed<T>(stage: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings.push([stage, performance.now() - started]);
  }
}

/** Free ports for every listener, so the demo never collides with a stack. */
async function demoStackSettings(): Promise<LocalSettings> {
  const ports = await Promise.all(Array.from({length: 5}, () => freePort()));
  const [gateway, fn, pubsub, bigquery, bigqueryGrpc] = ports.map(String);
  return resolveLocalSettings({
    ...process.env,
    LOCAL_GATEWAY_PORT: gateway,
    LOCAL_FUNCTION_PORT: fn,
    LOCAL_PUBSUB_PORT: pubsub,
    LOCAL_BIGQUERY_PORT: bigquery,
    LOCAL_BIGQUERY_GRPC_PORT: bigqueryGrpc,
  });
}

async function main(): Promise<boolean> {
  setSignalHandling('kill-and-exit');
  const demo = resolveSettings(DEMO_SETTINGS);
  const settings = await demoStackSettings();

  const stack = await timed('start the local stack', () =>
    startStack(settings, {say: line => say(`  ${line}`)}),
  );
  try {
    return await run(stack, demo);
  } finally {
    await timed('stop the local stack', () => stack.stop());
    printTimings();
  }
}

async function run(
  stack: RunningStack,
  demo: {
    items: number;
    streams: number;
    payloadBytes: number;
    deliveryTimeoutMs: number;
  },
): Promise<boolean> {
  const runId = randomUUID();
  const spec: SyntheticSpec = {
    payloadBytes: demo.payloadBytes,
    baseMicros: Date.now() * 1000,
    seed: runId,
  };
  const perStream = Math.ceil(demo.items / demo.streams);
  const streams = Array.from({length: demo.streams}, (_, index) => ({
    idempotencyKey: `demo-${runId}-${index}`,
    itemCount: Math.max(0, Math.min(perStream, demo.items - index * perStream)),
    itemAt: (ordinal: number) => syntheticItem(spec, index, ordinal),
  })).filter(stream => stream.itemCount > 0);

  say(`\nstreaming ${demo.items} items over ${streams.length} streams`);
  const {outcomes, progress} = await timed('stream to the gateway', () =>
    produce({
      target: parseTarget(stack.endpoints.gateway),
      streams,
      maxAttempts: 3,
      backoffMs: 500,
      attemptTimeoutMs: 120_000,
    }),
  );
  say(`  ${progressLine(progress, demo.items)}`);
  const failed = outcomes.filter(outcome => !outcome.ok);
  for (const outcome of failed) {
    say(`  stream ${outcome.idempotencyKey} failed: ${outcome.error?.code}`);
  }
  if (failed.length > 0) return false;

  const {dataset, dedupView, table} = stack.settings;
  const client = stack.bigqueryClient;
  say(`\nwaiting for every item in ${dataset}.${dedupView}`);
  const arrived = await timed('deliver to BigQuery', () =>
    waitForCount(
      client,
      `${dataset}.${dedupView}`,
      demo.items,
      demo.deliveryTimeoutMs,
    ),
  );
  if (!arrived) return false;

  return timed('check every row', () =>
    verify(stack, streams, spec, `${dataset}.${table}`),
  );
}

async function waitForCount(
  client: BigQuery,
  view: string,
  expected: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let count = 0;
  while (Date.now() < deadline) {
    const [rows] = await client.query(`SELECT COUNT(*) AS n FROM \`${view}\``);
    count = Number((rows[0] as {n: unknown}).n);
    if (process.stdout.isTTY) {
      process.stdout.write(`\r  ${count}/${expected} rows visible\x1b[K`);
    }
    if (count >= expected) break;
    await sleep(500);
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  say(`  ${count}/${expected} rows visible`);
  return count >= expected;
}

interface ViewRow {
  stream_id: string;
  item_index: number;
  created_micros: number;
  payload: Buffer;
}

async function verify(
  stack: RunningStack,
  streams: {idempotencyKey: string; itemCount: number}[],
  spec: SyntheticSpec,
  rawTable: string,
): Promise<boolean> {
  const {dataset, dedupView, table} = stack.settings;
  const client = stack.bigqueryClient;
  // The emulator may store BYTES as base64 text (docs/emulator-gaps.md);
  // a probe on a scratch table tells how to read them back.
  const scratch = client.dataset(dataset).table(`demo_probe_${Date.now()}`);
  await scratch.create({schema: {fields: [{name: 'b', type: 'BYTES'}]}});
  const storage = await probeBytesStorage(scratch, 'b');
  await scratch.delete();

  const [rows] = (await client.query(
    'SELECT stream_id, item_index, UNIX_MICROS(created_at) AS created_micros, ' +
      `payload FROM \`${dataset}.${dedupView}\``,
  )) as [ViewRow[], ...unknown[]];
  const [[raw]] = (await client.query(
    `SELECT COUNT(*) AS n FROM \`${rawTable}\``,
  )) as [{n: number}[], ...unknown[]];

  const indexOf = new Map(streams.map((s, i) => [s.idempotencyKey, i]));
  const seen = new Set<string>();
  let wrong = 0;
  let duplicates = 0;
  for (const row of rows) {
    const key = `${row.stream_id}:${row.item_index}`;
    if (seen.has(key)) duplicates++;
    seen.add(key);
    const streamIndex = indexOf.get(row.stream_id);
    if (streamIndex === undefined) {
      wrong++;
      continue;
    }
    const sent = syntheticItem(spec, streamIndex, row.item_index);
    const sentMicros = syntheticMicros(spec, streamIndex, row.item_index);
    const payload = storedBytes(row.payload, storage);
    if (
      Number(row.created_micros) !== sentMicros ||
      !payload.equals(sent.payload)
    ) {
      wrong++;
    }
  }
  const expected = streams.reduce((sum, s) => sum + s.itemCount, 0);
  const missing = expected - (seen.size - wrong);

  say('\nresult');
  printTable([
    ['items sent', String(expected)],
    [`rows in ${dedupView} (the view to query)`, String(rows.length)],
    [`rows in ${table} (raw, redeliveries included)`, String(raw?.n ?? 0)],
    ['duplicates in the view', String(duplicates)],
    ['missing', String(Math.max(0, missing))],
    ['rows whose values differ from what was sent', String(wrong)],
  ]);
  say('\nsample rows');
  printTable(
    rows
      .slice(0, 3)
      .map(row => [
        `${row.stream_id}:${row.item_index}`,
        formatMicros(Number(row.created_micros)),
        `${storedBytes(row.payload, storage).subarray(0, 8).toString('hex')}…`,
      ]),
  );
  const ok =
    rows.length === expected &&
    duplicates === 0 &&
    wrong === 0 &&
    missing === 0;
  say(
    ok
      ? `\nOK: all ${expected} items arrived exactly once with exact values`
      : '\nFAILED: see the counts above',
  );
  return ok;
}

function printTable(rows: string[][]): void {
  const widths = rows.reduce<number[]>(
    (max, row) => row.map((cell, i) => Math.max(max[i] ?? 0, cell.length)),
    [],
  );
  for (const row of rows) {
    say(`  ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`);
  }
}

function printTimings(): void {
  say('\ntimings');
  printTable(
    timings.map(([stage, ms]) => [stage, `${(ms / 1000).toFixed(2)} s`]),
  );
}

process.exitCode = (await main()) ? 0 : 1;
