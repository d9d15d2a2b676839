import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {Writable} from 'node:stream';
import type {CloudEvent} from '@google-cloud/functions-framework';
import {EnvelopeBuilder} from '../../../envelope/envelope-builder.js';
import {encodeBatch} from '../../../envelope/codec.js';
import {createLogger} from '../../../runtime/logger.js';
import type {InsertRequestFn} from '../../../functions/bigquery-client.js';
import type {DeadLetterRow} from '../../../functions/dead-letter.js';
import {DeadLetterWriteError} from '../../../functions/dead-letter.js';
import {createIngestHandler} from '../../../functions/ingest-handler.js';
import {TransientInsertError} from '../../../functions/insert-rows.js';
import type {InsertRow, ItemRow} from '../../../functions/rows.js';
import {resolveFunctionSettings} from '../../../functions/settings.js';
import {readSchemaFields} from '../../../functions/tables.js';

/** A table that records inserted rows; `fail` decides each request's fate. */
function fakeTable(fail: (rows: InsertRow<unknown>[]) => unknown = () => {}) {
  const stored: InsertRow<unknown>[] = [];
  const requests: InsertRow<unknown>[][] = [];
  const insert: InsertRequestFn = async rows => {
    requests.push(rows);
    const error = fail(rows);
    if (error !== undefined) throw error;
    stored.push(...rows);
  };
  return {insert, stored, requests};
}

function logSink() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line !== '') lines.push(JSON.parse(line));
      }
      done();
    },
  });
  const logger = createLogger({
    service: 'test',
    project: 'p',
    level: 'debug',
    destination,
  });
  return {logger, lines};
}

async function batchEvent(count: number, id = 'm-1') {
  const builder = new EnvelopeBuilder();
  for (let i = 0; i < count; i++) {
    builder.tryAdd(
      {
        streamId: 'stream-a',
        ordinal: i,
        createdAtMicros: 1_764_700_000_000_001 + i,
        payload: Uint8Array.from([0xff, i]),
        receivedAtMicros: 1_764_700_001_000_000,
      },
      1 << 20,
    );
  }
  const {data, attributes} = await encodeBatch(builder, 'gzip');
  return pushEvent(data, attributes, id);
}

function pushEvent(
  data: Buffer,
  attributes: Record<string, string>,
  id: string,
): CloudEvent<unknown> {
  return {
    specversion: '1.0',
    id,
    source: '//pubsub.googleapis.com/projects/p/topics/t',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    data: {message: {data: data.toString('base64'), attributes, messageId: id}},
  };
}

function setup(options: {
  items?: (rows: InsertRow<unknown>[]) => unknown;
  errors?: (rows: InsertRow<unknown>[]) => unknown;
  env?: NodeJS.ProcessEnv;
}) {
  const items = fakeTable(options.items);
  const errors = fakeTable(options.errors);
  const {logger, lines} = logSink();
  const handler = createIngestHandler({
    settings: resolveFunctionSettings(options.env ?? {}),
    insertItems: items.insert,
    insertDeadLetters: errors.insert,
    logger,
    now: () => new Date('2026-12-03T12:00:00Z'),
  });
  return {handler, items, errors, lines};
}

function letters(table: {stored: InsertRow<unknown>[]}) {
  return table.stored.map(row => row.json as DeadLetterRow);
}

/** PartialFailureError-shaped answer refusing the rows at `indexes`. */
function refuse(indexes: number[]) {
  return Object.assign(new Error(''), {
    name: 'PartialFailureError',
    response: {
      insertErrors: indexes.map(index => ({
        index,
        errors: [{reason: 'invalid', message: `row ${index} is bad`}],
      })),
    },
  });
}

describe('ingest handler', () => {
  it('stores every item of a batch as a row', async () => {
    const {handler, items, errors} = setup({});

    await handler(await batchEvent(3));

    assert.deepEqual(
      items.stored.map(r => r.insertId),
      ['stream-a:0', 'stream-a:1', 'stream-a:2'],
    );
    assert.equal((items.stored[2]?.json as ItemRow).payload, '/wI=');
    assert.equal(errors.stored.length, 0);
  });

  it('splits a batch into requests by INSERT_MAX_ROWS, keeping insert ids', async () => {
    const {handler, items} = setup({env: {INSERT_MAX_ROWS: '2'}});

    await handler(await batchEvent(5));

    assert.deepEqual(
      items.requests.map(request => request.map(r => r.insertId)),
      [
        ['stream-a:0', 'stream-a:1'],
        ['stream-a:2', 'stream-a:3'],
        ['stream-a:4'],
      ],
    );
  });

  it('dead-letters the rows BigQuery refuses and succeeds', async () => {
    const {handler, items, errors, lines} = setup({
      items: rows => (rows.length === 3 ? refuse([1]) : undefined),
    });

    await handler(await batchEvent(3));

    assert.deepEqual(
      letters(errors).map(l => [l.stream_id, l.item_index, l.reason]),
      [['stream-a', 1, 'invalid: row 1 is bad']],
    );
    const raw = JSON.parse(
      Buffer.from(letters(errors)[0]?.raw ?? '', 'base64').toString(),
    );
    assert.equal(raw.item_index, 1);
    assert.ok(
      lines.some(
        l =>
          l.severity === 'ERROR' &&
          l.message === 'row dead-lettered' &&
          l.messageId === 'm-1' &&
          l.reason === 'invalid: row 1 is bad',
      ),
    );
    // The fake stores nothing of a refused request; the real service keeps
    // the valid rows (skipInvalidRows), which the integration test checks.
    assert.equal(items.stored.length, 0);
  });

  it('sends rows held back as stopped again', async () => {
    let calls = 0;
    const stopped = Object.assign(new Error(''), {
      name: 'PartialFailureError',
      response: {
        insertErrors: [
          {index: 0, errors: [{reason: 'stopped', message: ''}]},
          {index: 1, errors: [{reason: 'invalid', message: 'bad'}]},
        ],
      },
    });
    const {handler, items, errors} = setup({
      items: () => (calls++ === 0 ? stopped : undefined),
    });

    await handler(await batchEvent(2));

    assert.deepEqual(
      items.stored.map(r => r.insertId),
      ['stream-a:0'],
    );
    assert.deepEqual(
      letters(errors).map(l => l.item_index),
      [1],
    );
  });

  it('fails the event on a transient error and dead-letters nothing', async () => {
    const unavailable = Object.assign(new Error('unavailable'), {code: 503});
    const {handler, errors} = setup({items: () => unavailable});

    await assert.rejects(handler(await batchEvent(2)), TransientInsertError);
    assert.equal(errors.requests.length, 0);
  });

  it('dead-letters a corrupt message once, with its raw bytes, and succeeds', async () => {
    const corrupt = Buffer.from([0xff, 0xff, 0xff, 0x01]);
    const {handler, items, errors, lines} = setup({});

    await handler(
      pushEvent(
        corrupt,
        {schema: 'ingest.v1.BatchEnvelope', 'content-encoding': 'identity'},
        'm-9',
      ),
    );

    assert.equal(items.requests.length, 0);
    const [letter, ...others] = letters(errors);
    assert.equal(others.length, 0);
    assert.equal(letter?.message_id, 'm-9');
    assert.equal(letter?.stream_id, null);
    assert.match(letter?.reason ?? '', /not a valid ingest.v1.BatchEnvelope/);
    assert.deepEqual(Buffer.from(letter?.raw ?? '', 'base64'), corrupt);
    assert.equal(letter?.raw_size_bytes, corrupt.byteLength);
    assert.equal(
      JSON.parse(letter?.attributes ?? '{}')['content-encoding'],
      'identity',
    );
    assert.ok(lines.some(l => l.message === 'message dead-lettered'));
  });

  it('dead-letters a message of an unknown schema', async () => {
    const {handler, errors} = setup({});

    await handler(pushEvent(Buffer.from('x'), {schema: 'other.v9'}, 'm-2'));

    assert.match(letters(errors)[0]?.reason ?? '', /attribute schema/);
  });

  it('dead-letters an event that holds no Pub/Sub message', async () => {
    const {handler, errors} = setup({});

    await handler({
      specversion: '1.0',
      id: 'e-1',
      source: 's',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      data: {unexpected: true},
    });

    assert.equal(letters(errors)[0]?.message_id, 'e-1');
  });

  it('cuts the raw bytes of a large poison message to DEAD_LETTER_RAW_MAX_BYTES', async () => {
    const {handler, errors} = setup({env: {DEAD_LETTER_RAW_MAX_BYTES: '16'}});

    await handler(pushEvent(Buffer.alloc(100, 0xff), {}, 'm-3'));

    const [letter] = letters(errors);
    assert.equal(Buffer.from(letter?.raw ?? '', 'base64').byteLength, 16);
    assert.equal(letter?.raw_size_bytes, 100);
  });

  it('fails the event when the dead-letter write fails', async () => {
    const {handler, lines} = setup({
      errors: () => Object.assign(new Error('down'), {code: 503}),
    });

    await assert.rejects(
      handler(pushEvent(Buffer.from('junk'), {}, 'm-4')),
      DeadLetterWriteError,
    );
    assert.ok(lines.some(l => l.message === 'dead-letter write failed'));
  });

  it('fails the event when the dead-letter table refuses the dead letter', async () => {
    const {handler} = setup({errors: () => refuse([0])});

    await assert.rejects(
      handler(pushEvent(Buffer.from('junk'), {}, 'm-5')),
      DeadLetterWriteError,
    );
  });

  it('fills exactly the columns of infra/schema/items_errors.json', async () => {
    const {handler, errors} = setup({});

    await handler(pushEvent(Buffer.from('junk'), {}, 'm-6'));

    const columns = readSchemaFields('items_errors.json').map(f => f.name);
    assert.deepEqual(
      Object.keys(letters(errors)[0] ?? {}).sort(),
      columns.sort(),
    );
  });
});
