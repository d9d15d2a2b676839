import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import {PubSub} from '@google-cloud/pubsub';
import {
  bigQueryClient,
  sharedEmulators,
  type BigQueryEmulator,
  type PubSubEmulator,
} from '../../harness/emulators.js';
import {
  probeBytesStorage,
  storedBytes,
} from '../../../local/bigquery-readback.js';

let pubsubEmulator: PubSubEmulator;
let bigqueryEmulator: BigQueryEmulator;

before(async () => {
  ({pubsub: pubsubEmulator, bigquery: bigqueryEmulator} =
    await sharedEmulators());
});

describe('Pub/Sub emulator', () => {
  let pubsub: PubSub;
  before(() => {
    pubsub = new PubSub({
      projectId: pubsubEmulator.projectId,
      apiEndpoint: pubsubEmulator.host,
    });
  });
  after(() => pubsub.close());

  it('returns a published message byte for byte with its attributes', async () => {
    const name = `smoke-${randomUUID()}`;
    const [topic] = await pubsub.createTopic(name);
    const [subscription] = await topic.createSubscription(name);
    const data = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7f]);

    await topic.publishMessage({data, attributes: {kind: 'smoke'}});

    const received = await new Promise<{data: Buffer; kind?: string}>(
      (resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('no message within 10 s')),
          10_000,
        );
        subscription.once('message', message => {
          clearTimeout(timer);
          message.ack();
          resolve({data: message.data, kind: message.attributes.kind});
        });
        subscription.once('error', reject);
      },
    );
    await subscription.close();

    assert.deepEqual([...received.data], [...data]);
    assert.equal(received.kind, 'smoke');
  });
});

describe('BigQuery emulator', () => {
  it('returns inserted rows exactly: TIMESTAMP microseconds, BYTES with 0xFF', async () => {
    const bigquery = bigQueryClient(
      bigqueryEmulator.endpoint,
      bigqueryEmulator.projectId,
    );
    const datasetId = `smoke_${randomUUID().replaceAll('-', '')}`;
    const [dataset] = await bigquery.createDataset(datasetId);
    const [table] = await dataset.createTable('rows', {
      schema: {
        fields: [
          {name: 'id', type: 'STRING'},
          {name: 'created', type: 'TIMESTAMP'},
          {name: 'payload', type: 'BYTES'},
        ],
      },
    });
    const payload = Buffer.from([0xff, 0x00, 0xc3, 0x28]);

    await table.insert(
      [
        {
          insertId: 'row-1',
          json: {
            id: 'row-1',
            created: '2026-12-03T10:11:12.123456Z',
            payload: payload.toString('base64'),
          },
        },
      ],
      {raw: true},
    );
    const storage = await probeBytesStorage(table, 'payload', {id: 'probe'});
    const [rows] = await bigquery.query({
      query:
        'SELECT id, UNIX_MICROS(created) AS micros, payload ' +
        `FROM \`${datasetId}.rows\` WHERE id = 'row-1'`,
    });

    assert.equal(rows.length, 1);
    assert.equal(rows[0].id, 'row-1');
    assert.equal(
      rows[0].micros,
      Date.UTC(2026, 11, 3, 10, 11, 12) * 1000 + 123_456,
    );
    assert.deepEqual(storedBytes(rows[0].payload, storage), payload);
  });
});
