import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {once} from 'node:events';
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Writable} from 'node:stream';
import type {BigQuery} from '@google-cloud/bigquery';
import type {PubSub} from '@google-cloud/pubsub';
import * as functions from '@google-cloud/functions-framework';
import {getTestServer} from '@google-cloud/functions-framework/testing';
import {createLogger} from '../../../runtime/logger.js';
import {
  createBigQueryClient,
  tableInserter,
  type InsertRequestFn,
} from '../../../functions/bigquery-client.js';
import {createIngestHandler} from '../../../functions/ingest-handler.js';
import {resolveFunctionSettings} from '../../../functions/settings.js';
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
  uniqueNames,
} from './function-stack.js';

/**
 * The emulator answers a value of the wrong type with HTTP 500 for the
 * whole request instead of a per-row error, and enforces neither REQUIRED
 * nor TIMESTAMP ranges. The one per-row rejection it does make is an
 * unknown field, so this test adds one to a single row on its way out of
 * the function: everything after that (BigQuery's per-row answer, its
 * classification, the dead letter, the other rows stored) is the real code
 * against the real emulator. See docs/emulator-gaps.md.
 */
function withUnknownField(
  insert: InsertRequestFn,
  insertId: string,
): InsertRequestFn {
  return rows =>
    insert(
      rows.map(row =>
        row.insertId === insertId
          ? {...row, json: {...(row.json as object), not_a_column: 'x'}}
          : row,
      ),
    );
}

describe('a row BigQuery rejects', () => {
  let bigquery: BigQuery;
  let pubsub: PubSub;
  let names: TableNames;
  let storage: BytesStorage;
  let server: Server;
  const logs: Record<string, unknown>[] = [];

  before(async () => {
    const emulators = await sharedEmulators();
    bigquery = bigQueryClient(
      emulators.bigquery.endpoint,
      emulators.bigquery.projectId,
    );
    pubsub = pubsubClient(emulators.pubsub.host, emulators.pubsub.projectId);
    names = uniqueNames(emulators.bigquery.projectId, 'rejected');
    storage = await createTables(bigquery, names);

    const settings = resolveFunctionSettings({
      GOOGLE_CLOUD_PROJECT: names.projectId,
      BIGQUERY_DATASET: names.dataset,
      BIGQUERY_EMULATOR_HOST: emulators.bigquery.endpoint,
    });
    const dataset = createBigQueryClient(settings).dataset(names.dataset);
    const logger = createLogger({
      service: 'test',
      project: names.projectId,
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n')) {
            if (line !== '') logs.push(JSON.parse(line));
          }
          done();
        },
      }),
    });
    functions.cloudEvent(
      'ingestBatchWithOneBadRow',
      createIngestHandler({
        settings,
        insertItems: withUnknownField(
          tableInserter(dataset.table(names.table), 10_000),
          'rejected:1',
        ),
        insertDeadLetters: tableInserter(
          dataset.table(names.errorsTable),
          10_000,
        ),
        logger,
      }),
    );
    server = getTestServer('ingestBatchWithOneBadRow');
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  after(async () => {
    server?.close();
    await pubsub?.close();
  });

  it('goes to the dead-letter table with its reason while the others are stored', async () => {
    const {port} = server.address() as AddressInfo;
    const topic = await pushTopic(
      pubsub,
      'fn-rejected',
      path => `http://127.0.0.1:${port}/${path}`,
    );
    const entries = entriesOf('rejected', 3);

    const messageId = await topic.publishMessage(await batchOf(entries));

    const letters = await eventually('the dead letter', async () => {
      const found = await readDeadLetters(bigquery, names, storage);
      return found.length > 0 ? found : undefined;
    });
    const stored = await eventually('the other rows', async () => {
      const rows = await readItems(bigquery, names, storage, 'view');
      return rows.length >= 2 ? rows : undefined;
    });
    assert.deepEqual(
      letters.map(l => [l.messageId, l.streamId, l.itemIndex]),
      [[messageId, 'rejected', 1]],
    );
    assert.match(letters[0]?.reason ?? '', /^invalid: .*not_a_column/);
    const raw = JSON.parse(letters[0]?.raw.toString('utf8') ?? '{}');
    assert.equal(raw.stream_id, 'rejected');
    assert.equal(raw.item_index, 1);
    assert.deepEqual(
      stored.map(row => row.itemIndex),
      [0, 2],
    );
    assert.ok(
      logs.some(
        line =>
          line.severity === 'ERROR' &&
          line.message === 'row dead-lettered' &&
          line.messageId === messageId,
      ),
    );
  });
});
