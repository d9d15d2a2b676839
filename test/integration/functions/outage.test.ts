import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {BigQuery} from '@google-cloud/bigquery';
import type {PubSub} from '@google-cloud/pubsub';
import type {TableNames} from '../../../functions/tables.js';
import type {BytesStorage} from '../../../local/bigquery-readback.js';
import {
  bigQueryClient,
  sharedEmulators,
  startBigQueryEmulator,
  type BigQueryEmulator,
} from '../../harness/emulators.js';
import {
  batchOf,
  createTables,
  entriesOf,
  eventually,
  pubsubClient,
  pushTopic,
  readItems,
  startFunction,
  uniqueNames,
  type FunctionProcess,
} from './function-stack.js';

/** Deliveries of `messageId` the function logged with `message`. */
function deliveries(
  fn: FunctionProcess,
  messageId: string,
  message: 'batch insert failed, Pub/Sub will redeliver' | 'batch stored',
): number {
  return fn.logs.filter(
    line => line.messageId === messageId && line.message === message,
  ).length;
}

/** Waits until the function failed `messageId` twice. */
async function twoFailures(fn: FunctionProcess, messageId: string) {
  await eventually(
    'two failed deliveries',
    async () =>
      deliveries(
        fn,
        messageId,
        'batch insert failed, Pub/Sub will redeliver',
      ) >= 2
        ? true
        : undefined,
    30_000,
  );
}

/** Waits until a redelivery of `messageId` succeeded, so it is acknowledged. */
async function storedDelivery(fn: FunctionProcess, messageId: string) {
  await eventually('a delivery that succeeds', async () =>
    deliveries(fn, messageId, 'batch stored') >= 1 ? true : undefined,
  );
}

// This file pauses and restarts BigQuery, so it has an emulator of its own.
describe('BigQuery unreachable', () => {
  let emulator: BigQueryEmulator;
  let bigquery: BigQuery;
  let pubsub: PubSub;
  let names: TableNames;
  let storage: BytesStorage;
  let fn: FunctionProcess;

  before(async () => {
    const shared = await sharedEmulators();
    emulator = await startBigQueryEmulator();
    bigquery = bigQueryClient(emulator.endpoint, emulator.projectId);
    pubsub = pubsubClient(shared.pubsub.host, shared.pubsub.projectId);
    names = uniqueNames(emulator.projectId, 'outage');
    storage = await createTables(bigquery, names);
    fn = await startFunction({
      GOOGLE_CLOUD_PROJECT: names.projectId,
      BIGQUERY_DATASET: names.dataset,
      BIGQUERY_EMULATOR_HOST: emulator.endpoint,
      INSERT_TIMEOUT_MS: '1000',
      INSERT_RETRIES: '0',
    });
  });

  after(async () => {
    emulator?.resume();
    await fn?.stop();
    await emulator?.stop();
    await pubsub?.close();
  });

  it('fails the event while BigQuery is frozen, and the redelivery lands once', async () => {
    const topic = await pushTopic(pubsub, 'fn-frozen', t => fn.pushEndpoint(t));
    const entries = entriesOf('frozen', 4);
    emulator.pause();

    let messageId: string;
    try {
      messageId = await topic.publishMessage(await batchOf(entries));
      await twoFailures(fn, messageId);
    } finally {
      emulator.resume();
    }

    // A request abandoned at its deadline may still store its rows once
    // the emulator thaws; the success that matters is a redelivery's.
    await storedDelivery(fn, messageId);

    const view = await eventually('the rows', async () => {
      const rows = await readItems(bigquery, names, storage, 'view');
      const mine = rows.filter(row => row.streamId === 'frozen');
      return mine.length === entries.length ? mine : undefined;
    });
    assert.deepEqual(
      view.map(row => [row.itemIndex, row.messageId]),
      entries.map(entry => [entry.ordinal, messageId]),
    );
  });

  it('fails the event while BigQuery is down, and the redelivery lands after it is back', async () => {
    const topic = await pushTopic(pubsub, 'fn-down', t => fn.pushEndpoint(t));
    const entries = entriesOf('down', 3);
    const port = emulator.port;
    await emulator.stop();

    const messageId = await topic.publishMessage(await batchOf(entries));
    await twoFailures(fn, messageId);
    // The emulator keeps nothing across a restart: the tables come back
    // empty, as after an operator recreated them.
    emulator = await startBigQueryEmulator({port});
    bigquery = bigQueryClient(emulator.endpoint, emulator.projectId);
    storage = await createTables(bigquery, names);

    await storedDelivery(fn, messageId);
    const view = (await readItems(bigquery, names, storage, 'view')).filter(
      row => row.streamId === 'down',
    );
    assert.deepEqual(
      view.map(row => [row.streamId, row.itemIndex]),
      entries.map(entry => ['down', entry.ordinal]),
    );
  });
});
