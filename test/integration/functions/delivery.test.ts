import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import type {BigQuery} from '@google-cloud/bigquery';
import type {PubSub} from '@google-cloud/pubsub';
import {ATTRIBUTE} from '../../../envelope/attributes.js';
import type {TableNames} from '../../../functions/tables.js';
import type {BytesStorage} from '../../../local/bigquery-readback.js';
import {bigQueryClient, sharedEmulators} from '../../harness/emulators.js';
import {
  batchOf,
  createTables,
  entriesOf,
  eventually,
  pubsubClient,
  pushTopic,
  readDeadLetters,
  readItems,
  startFunction,
  uniqueNames,
  type FunctionProcess,
} from './function-stack.js';
import {startRecordingProxy, type RecordingProxy} from './recording-proxy.js';

/** Small request limits, so that modest batches split. */
const MAX_ROWS = 4;
const MAX_BYTES = 128 * 1024;

describe('function delivery through Pub/Sub push into BigQuery', () => {
  let bigquery: BigQuery;
  let pubsub: PubSub;
  let names: TableNames;
  let storage: BytesStorage;
  let proxy: RecordingProxy;
  let fn: FunctionProcess;

  before(async () => {
    const emulators = await sharedEmulators();
    bigquery = bigQueryClient(
      emulators.bigquery.endpoint,
      emulators.bigquery.projectId,
    );
    pubsub = pubsubClient(emulators.pubsub.host, emulators.pubsub.projectId);
    names = uniqueNames(emulators.bigquery.projectId, 'delivery');
    storage = await createTables(bigquery, names);
    proxy = await startRecordingProxy(emulators.bigquery.endpoint);
    fn = await startFunction({
      GOOGLE_CLOUD_PROJECT: names.projectId,
      BIGQUERY_DATASET: names.dataset,
      BIGQUERY_EMULATOR_HOST: proxy.endpoint,
      INSERT_MAX_ROWS: String(MAX_ROWS),
      INSERT_MAX_BYTES: String(MAX_BYTES),
      DEAD_LETTER_RAW_MAX_BYTES: '1024',
    });
  });

  after(async () => {
    await fn?.stop();
    await proxy?.close();
    await pubsub?.close();
  });

  it('stores a published batch as exactly its rows, microseconds and bytes intact', async () => {
    const entries = [...entriesOf('exact-a', 3), ...entriesOf('exact-b', 2)];
    const topic = await pushTopic(pubsub, 'fn-exact', t => fn.pushEndpoint(t));

    const messageId = await topic.publishMessage(await batchOf(entries));

    const expected = entries.map(entry => ({
      streamId: entry.streamId,
      itemIndex: entry.ordinal,
      createdAtMicros: entry.createdAtMicros,
      receivedAtMicros: entry.receivedAtMicros,
      payload: Buffer.from(entry.payload),
      messageId,
    }));
    const stored = await eventually('the rows', async () => {
      const rows = (await readItems(bigquery, names, storage, 'table')).filter(
        row => row.streamId.startsWith('exact-'),
      );
      return rows.length >= entries.length ? rows : undefined;
    });
    assert.deepEqual(stored, expected);
    assert.ok(stored.every(row => row.payload[0] === 0xff));
  });

  it('leaves each item once in the dedup view when a message is delivered twice', async () => {
    const entries = entriesOf('twice', 3);
    // Two push subscriptions on one topic: Pub/Sub delivers the very same
    // message, same id and data, twice, as it may on a redelivery.
    const topic = await pushTopic(
      pubsub,
      'fn-twice',
      t => fn.pushEndpoint(t),
      2,
    );

    await topic.publishMessage(await batchOf(entries));

    const copies = await eventually('both deliveries', async () => {
      const rows = (await readItems(bigquery, names, storage, 'table')).filter(
        row => row.streamId === 'twice',
      );
      return rows.length >= 2 * entries.length ? rows : undefined;
    });
    const view = (await readItems(bigquery, names, storage, 'view')).filter(
      row => row.streamId === 'twice',
    );
    // The emulator keeps both copies (it has no insert-id deduplication);
    // BigQuery usually keeps one. The view must show one either way.
    assert.equal(copies.length, 2 * entries.length);
    assert.deepEqual(
      view.map(row => row.itemIndex),
      [0, 1, 2],
    );
  });

  it('dead-letters a corrupt message once and acknowledges it', async () => {
    const topic = await pushTopic(pubsub, 'fn-corrupt', t =>
      fn.pushEndpoint(t),
    );
    // Field 1 claims 127 bytes, and 1 follows.
    const corrupt = Buffer.from([0x0a, 0x7f, 0xff]);

    const messageId = await topic.publishMessage({
      data: corrupt,
      attributes: {
        [ATTRIBUTE.schema]: 'ingest.v1.BatchEnvelope',
        [ATTRIBUTE.contentEncoding]: 'identity',
      },
    });

    const letters = await eventually('the dead letter', async () => {
      const found = (await readDeadLetters(bigquery, names, storage)).filter(
        letter => letter.messageId === messageId,
      );
      return found.length > 0 ? found : undefined;
    });
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.streamId, null);
    assert.match(
      letters[0]?.reason ?? '',
      /not a valid ingest.v1.BatchEnvelope/,
    );
    assert.deepEqual(letters[0]?.raw, corrupt);

    // A nacked message would come back within the 1-2 s retry backoff and
    // add a dead letter per delivery (the emulator does not deduplicate).
    await sleep(4_000);
    const deliveries = fn.logs.filter(
      line =>
        line.messageId === messageId &&
        line.message === 'message dead-lettered',
    );
    const after = (await readDeadLetters(bigquery, names, storage)).filter(
      letter => letter.messageId === messageId,
    );
    assert.equal(deliveries.length, 1);
    assert.equal(after.length, 1);
  });

  it('splits a batch by rows and by bytes, each request keeping its insert ids', async () => {
    const byRows = entriesOf('split-rows', 10);
    // About 55 KB of JSON per row (base64 of 40 KiB): two fit in 128 KiB.
    const byBytes = entriesOf('split-bytes', 6, 40 * 1024);
    const topic = await pushTopic(pubsub, 'fn-split', t => fn.pushEndpoint(t));
    const before = proxy.inserts.length;

    await topic.publishMessage(await batchOf(byRows));
    await topic.publishMessage(await batchOf(byBytes));

    await eventually('both batches', async () => {
      const rows = (await readItems(bigquery, names, storage, 'view')).filter(
        row => row.streamId.startsWith('split-'),
      );
      return rows.length === byRows.length + byBytes.length ? rows : undefined;
    });
    const inserts = proxy.inserts
      .slice(before)
      .filter(insert => insert.table === names.table);
    const rowsSplit = inserts.filter(i =>
      i.insertIds[0]?.startsWith('split-rows'),
    );
    const bytesSplit = inserts.filter(i =>
      i.insertIds[0]?.startsWith('split-bytes'),
    );
    assert.deepEqual(
      rowsSplit.map(i => i.insertIds),
      [
        ['split-rows:0', 'split-rows:1', 'split-rows:2', 'split-rows:3'],
        ['split-rows:4', 'split-rows:5', 'split-rows:6', 'split-rows:7'],
        ['split-rows:8', 'split-rows:9'],
      ],
    );
    assert.deepEqual(
      bytesSplit.flatMap(i => i.insertIds),
      byBytes.map(e => `split-bytes:${e.ordinal}`),
    );
    assert.ok(bytesSplit.length > 1, 'the byte limit split the batch');
    for (const insert of inserts) {
      assert.ok(insert.bodyBytes <= MAX_BYTES, `${insert.bodyBytes} bytes`);
      assert.ok(insert.insertIds.length <= MAX_ROWS);
    }
  });
});
