/**
 * The function's insert path against a bare client, both into the BigQuery
 * emulator, in a process of its own so its CPU is its own. The same batches
 * go through both:
 *
 * - function: each batch, as the CloudEvent the function receives, through
 *   createIngestHandler with the function's client and tableInserters, so
 *   decoding, row building, request splitting and classification all count;
 * - bare: the same rows, built before the clock starts, split into the same
 *   requests, sent with table.insert by a client with default options.
 *
 * Usage: node dist/bench/function-insert.js '<InsertSpec as JSON>'
 * Prints one InsertReport as JSON on stdout.
 */
import {performance} from 'node:perf_hooks';
import {BigQuery} from '@google-cloud/bigquery';
import type {CloudEvent} from '@google-cloud/functions-framework';
import {pino} from 'pino';
import {EnvelopeBuilder} from '../envelope/envelope-builder.js';
import {
  decodeBatch,
  encodeBatch,
  type EncodedBatch,
} from '../envelope/codec.js';
import {tableInserters} from '../functions/bigquery-client.js';
import {createIngestHandler} from '../functions/ingest-handler.js';
import {splitInsertRequests} from '../functions/insert-requests.js';
import {itemRows, type InsertRow} from '../functions/rows.js';
import {resolveFunctionSettings} from '../functions/settings.js';
import {createLogger} from '../runtime/logger.js';

/** What to insert, where, and how. */
export interface InsertSpec {
  mode: 'function' | 'bare';
  endpoint: string;
  projectId: string;
  dataset: string;
  table: string;
  errorsTable: string;
  rows: number;
  /** Items per batch, as the gateway's BATCH_MAX_ITEMS. */
  batchItems: number;
  payloadBytes: number;
}

/** What one mode achieved. */
export interface InsertReport {
  rows: number;
  requests: number;
  elapsedMs: number;
  cpuUs: number;
}

/** Builds the envelopes of `spec.rows` items, `spec.batchItems` each. */
export async function buildBatches(spec: InsertSpec): Promise<EncodedBatch[]> {
  const batches: EncodedBatch[] = [];
  const payload = Buffer.alloc(spec.payloadBytes, 0x5a);
  const nowMicros = Date.now() * 1000;
  for (let first = 0; first < spec.rows; first += spec.batchItems) {
    const builder = new EnvelopeBuilder();
    const last = Math.min(spec.rows, first + spec.batchItems);
    for (let ordinal = first; ordinal < last; ordinal++) {
      builder.tryAdd(
        {
          streamId: `bench-${spec.mode}`,
          ordinal,
          createdAtMicros: nowMicros + ordinal,
          payload,
          receivedAtMicros: nowMicros + ordinal,
        },
        Number.MAX_SAFE_INTEGER,
      );
    }
    batches.push(await encodeBatch(builder, 'identity'));
  }
  return batches;
}

async function runFunction(
  spec: InsertSpec,
  batches: EncodedBatch[],
): Promise<InsertReport> {
  const settings = resolveFunctionSettings({
    GOOGLE_CLOUD_PROJECT: spec.projectId,
    BIGQUERY_DATASET: spec.dataset,
    BIGQUERY_TABLE: spec.table,
    BIGQUERY_ERRORS_TABLE: spec.errorsTable,
    BIGQUERY_EMULATOR_HOST: spec.endpoint,
  });
  // Logged as in production, but to /dev/null so stdout stays the report.
  const logger = createLogger({
    service: 'ingest-function',
    project: spec.projectId,
    level: 'info',
    destination: pino.destination({dest: '/dev/null', sync: false}),
  });
  const handler = createIngestHandler({
    settings,
    ...tableInserters(settings),
    logger,
  });
  const events = batches.map((batch, index) => pushEvent(batch, index));

  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for (const event of events) await handler(event);
  return report(spec.rows, batches.length, started, cpuStart);
}

async function runBare(
  spec: InsertSpec,
  batches: EncodedBatch[],
): Promise<InsertReport> {
  const table = new BigQuery({
    projectId: spec.projectId,
    apiEndpoint: spec.endpoint,
  })
    .dataset(spec.dataset)
    .table(spec.table);
  const requests: InsertRow[][] = [];
  const insertedAt = new Date();
  for (const [index, batch] of batches.entries()) {
    const items = await decodeBatch(batch.data, batch.attributes, 2 ** 30);
    const rows = itemRows(items, {messageId: `bench-${index}`, insertedAt});
    const limits = {maxRows: 500, maxBytes: 9 * 2 ** 20};
    for (const request of splitInsertRequests(rows, limits)) {
      requests.push(request.rows);
    }
  }

  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for (const rows of requests) {
    await table.insert(rows, {raw: true, skipInvalidRows: true});
  }
  return report(spec.rows, requests.length, started, cpuStart);
}

/** The CloudEvent the Functions Framework makes of a push delivery. */
function pushEvent(batch: EncodedBatch, index: number): CloudEvent<unknown> {
  return {
    id: `bench-${index}`,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: '//pubsub.googleapis.com/projects/local-project/topics/bench',
    specversion: '1.0',
    data: {
      message: {
        data: batch.data.toString('base64'),
        attributes: batch.attributes,
        messageId: `bench-${index}`,
      },
    },
  };
}

function report(
  rows: number,
  requests: number,
  started: number,
  cpuStart: NodeJS.CpuUsage,
): InsertReport {
  const cpu = process.cpuUsage(cpuStart);
  return {
    rows,
    requests,
    elapsedMs: performance.now() - started,
    cpuUs: cpu.user + cpu.system,
  };
}

const isMain = process.argv[1]?.endsWith('function-insert.js') ?? false;
if (isMain) {
  const spec = JSON.parse(process.argv[2] ?? '') as InsertSpec;
  const batches = await buildBatches(spec);
  const result =
    spec.mode === 'function'
      ? await runFunction(spec, batches)
      : await runBare(spec, batches);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
