/**
 * What the function's integration tests share: a dataset of their own in
 * the BigQuery emulator, the function served by the real Functions
 * Framework CLI on a free loopback port, a push subscription of the real
 * Pub/Sub emulator pointed at it, and readers for what landed.
 */
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import type {BigQuery} from '@google-cloud/bigquery';
import {PubSub, type Topic} from '@google-cloud/pubsub';
import {EnvelopeBuilder} from '../../../envelope/envelope-builder.js';
import {encodeBatch, type EncodedBatch} from '../../../envelope/codec.js';
import type {EnvelopeEntry} from '../../../envelope/envelope-builder.js';
import {ensureTables, type TableNames} from '../../../functions/tables.js';
import {
  probeBytesStorage,
  storedBytes,
  type BytesStorage,
} from '../../../local/bigquery-readback.js';
import {
  freePort,
  startProcess,
  waitUntilReady,
  type ManagedProcess,
} from '../../harness/processes.js';
import {repoRoot} from '../../../local/paths.js';

/** Names for a test file's own dataset, so files never share tables. */
export function uniqueNames(projectId: string, label: string): TableNames {
  const suffix = `${Date.now().toString(36)}_${process.pid}`;
  return {
    projectId,
    dataset: `fn_${label}_${suffix}`,
    table: 'items',
    errorsTable: 'items_errors',
    dedupView: 'items_dedup',
  };
}

/** Creates the tables, and a probe table to learn how BYTES are stored. */
export async function createTables(
  bigquery: BigQuery,
  names: TableNames,
): Promise<BytesStorage> {
  await ensureTables(bigquery, names);
  const [probe] = await bigquery
    .dataset(names.dataset)
    .createTable('bytes_probe', {
      schema: {fields: [{name: 'value', type: 'BYTES'}]},
    });
  return probeBytesStorage(probe, 'value');
}

/** The function, served by functions/main.ts in a child process. */
export interface FunctionProcess {
  readonly port: number;
  readonly process: ManagedProcess;
  /** Every JSON log line it wrote so far. */
  readonly logs: Record<string, unknown>[];
  /** Push endpoint whose path names the topic, as the framework wants. */
  pushEndpoint(topic: string): string;
  stop(): Promise<void>;
}

/**
 * Starts dist/functions/main.js, what `npm run function` runs, with the
 * given settings, and waits until it answers HTTP.
 */
export async function startFunction(
  env: Record<string, string>,
): Promise<FunctionProcess> {
  const port = await freePort();
  const managed = startProcess(
    'function',
    process.execPath,
    [join(repoRoot(), 'dist', 'functions', 'main.js')],
    {
      env: {
        PATH: process.env.PATH,
        METADATA_SERVER_DETECTION: 'none',
        LOG_LEVEL: 'debug',
        PORT: String(port),
        ...env,
      },
    },
  );
  const logs: Record<string, unknown>[] = [];
  let partial = '';
  managed.child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) logs.push(JSON.parse(line));
    }
  });

  await waitUntilReady(
    managed,
    async () => {
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        signal: AbortSignal.timeout(1_000),
      });
      await response.body?.cancel();
      return true;
    },
    20_000,
  );
  return {
    port,
    process: managed,
    logs,
    pushEndpoint: topic => `http://127.0.0.1:${port}/${topic}`,
    stop: () => managed.stop(),
  };
}

/** Pub/Sub client for an emulator at host:port. */
export function pubsubClient(host: string, projectId: string): PubSub {
  return new PubSub({projectId, apiEndpoint: host, emulatorMode: true});
}

/**
 * A topic with a push subscription to `endpoint(topicName)`. A short retry
 * backoff keeps redeliveries quick; `copies` subscriptions push every
 * message that many times.
 */
export async function pushTopic(
  pubsub: PubSub,
  name: string,
  endpoint: (topicPath: string) => string,
  copies = 1,
): Promise<Topic> {
  const unique = `${name}-${Date.now().toString(36)}`;
  const [topic] = await pubsub.createTopic(unique);
  for (let copy = 0; copy < copies; copy++) {
    await topic.createSubscription(`${unique}-push-${copy}`, {
      pushConfig: {pushEndpoint: endpoint(topic.name)},
      ackDeadlineSeconds: 20,
      retryPolicy: {
        minimumBackoff: {seconds: 1},
        maximumBackoff: {seconds: 2},
      },
    });
  }
  return topic;
}

/** One envelope of `entries`, encoded the way the gateway encodes it. */
export async function batchOf(
  entries: EnvelopeEntry[],
  encoding: 'identity' | 'gzip' = 'gzip',
): Promise<EncodedBatch> {
  const builder = new EnvelopeBuilder();
  for (const entry of entries) {
    if (!builder.tryAdd(entry, 64 * 1024 * 1024)) {
      throw new Error('entries do not fit one envelope');
    }
  }
  return encodeBatch(builder, encoding);
}

/** A row as read back, with its timestamps in microseconds. */
export interface StoredItem {
  streamId: string;
  itemIndex: number;
  createdAtMicros: number;
  receivedAtMicros: number;
  payload: Buffer;
  messageId: string;
}

/** Reads the items table, or the dedup view, ordered by identity. */
export async function readItems(
  bigquery: BigQuery,
  names: TableNames,
  storage: BytesStorage,
  from: 'table' | 'view',
): Promise<StoredItem[]> {
  const source = from === 'table' ? names.table : names.dedupView;
  const [rows] = await bigquery.query(
    'SELECT stream_id, item_index, payload, message_id, ' +
      'UNIX_MICROS(created_at) AS created_us, ' +
      'UNIX_MICROS(received_at) AS received_us ' +
      `FROM \`${names.projectId}.${names.dataset}.${source}\` ` +
      'ORDER BY stream_id, item_index',
  );
  return (rows as Record<string, unknown>[]).map(row => ({
    streamId: String(row.stream_id),
    itemIndex: Number(row.item_index),
    createdAtMicros: Number(row.created_us),
    receivedAtMicros: Number(row.received_us),
    payload: storedBytes(row.payload, storage),
    messageId: String(row.message_id),
  }));
}

/** A dead-letter row as read back. */
export interface StoredDeadLetter {
  messageId: string;
  streamId: string | null;
  itemIndex: number | null;
  reason: string;
  raw: Buffer;
  rawSizeBytes: number;
}

/** Reads the dead-letter table. */
export async function readDeadLetters(
  bigquery: BigQuery,
  names: TableNames,
  storage: BytesStorage,
): Promise<StoredDeadLetter[]> {
  const [rows] = await bigquery.query(
    'SELECT message_id, stream_id, item_index, reason, raw, raw_size_bytes ' +
      `FROM \`${names.projectId}.${names.dataset}.${names.errorsTable}\` ` +
      'ORDER BY message_id, stream_id, item_index',
  );
  return (rows as Record<string, unknown>[]).map(row => ({
    messageId: String(row.message_id),
    streamId: row.stream_id === null ? null : String(row.stream_id),
    itemIndex: row.item_index === null ? null : Number(row.item_index),
    reason: String(row.reason),
    raw: storedBytes(row.raw, storage),
    rawSizeBytes: Number(row.raw_size_bytes),
  }));
}

/** Polls `probe` until it returns a value, or fails after timeoutMs. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`, {cause: lastError});
}

/** Items of one stream with non-UTF-8 payloads and microsecond times. */
export function entriesOf(
  streamId: string,
  count: number,
  payloadBytes = 3,
): EnvelopeEntry[] {
  return Array.from({length: count}, (_, i) => ({
    streamId,
    ordinal: i,
    createdAtMicros: 1_764_700_000_123_456 + i * 1_000_001,
    payload: Buffer.alloc(payloadBytes, 0xff).fill(i, 1, 2),
    receivedAtMicros: 1_764_700_100_000_001 + i,
  }));
}
