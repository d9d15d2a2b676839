import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
  formatTimestampMicros,
  insertIdOf,
  itemRows,
} from '../../../functions/rows.js';
import {readSchemaFields} from '../../../functions/tables.js';

const item = {
  streamId: 'stream-a',
  ordinal: 7,
  createdAtMicros: 1_764_700_000_123_456,
  payload: Uint8Array.from([0xff, 0x00, 0xfe]),
  receivedAtMicros: 1_764_700_001_000_001,
};
const context = {
  messageId: 'message-1',
  insertedAt: new Date('2026-12-03T10:00:00.250Z'),
};

describe('item rows', () => {
  it('formats microseconds as RFC 3339 with all six digits', () => {
    const cases: [number, string][] = [
      [0, '1970-01-01T00:00:00.000000Z'],
      [1, '1970-01-01T00:00:00.000001Z'],
      [1_764_700_000_123_456, '2025-12-02T18:26:40.123456Z'],
      [-1, '1969-12-31T23:59:59.999999Z'],
      [-1_000_000, '1969-12-31T23:59:59.000000Z'],
      [999_999, '1970-01-01T00:00:00.999999Z'],
    ];
    for (const [micros, expected] of cases) {
      assert.equal(formatTimestampMicros(micros), expected, String(micros));
    }
  });

  it('keeps the microseconds through a round trip via Date.parse plus the fraction', () => {
    const micros = 1_764_700_000_987_654;
    const text = formatTimestampMicros(micros);
    const [whole, fraction] = text.slice(0, -1).split('.');

    assert.equal(Date.parse(`${whole}Z`) * 1000 + Number(fraction), micros);
  });

  it('builds one row per item with a deterministic insert id', () => {
    const rows = itemRows([item, {...item, ordinal: 8}], context);

    assert.deepEqual(
      rows.map(row => row.insertId),
      ['stream-a:7', 'stream-a:8'],
    );
    assert.equal(insertIdOf('stream-a', 7), 'stream-a:7');
  });

  it('gives a redelivered batch the same rows apart from inserted_at', () => {
    const first = itemRows([item], context);
    const second = itemRows([item], {
      ...context,
      insertedAt: new Date('2026-12-03T11:00:00Z'),
    });

    assert.deepEqual(
      first.map(r => ({...r, json: {...r.json, inserted_at: ''}})),
      second.map(r => ({...r, json: {...r.json, inserted_at: ''}})),
    );
  });

  it('encodes non-UTF-8 payloads as base64 and keeps every field', () => {
    const [row] = itemRows([item], context);

    assert.deepEqual(row?.json, {
      stream_id: 'stream-a',
      item_index: 7,
      created_at: '2025-12-02T18:26:40.123456Z',
      payload: '/wD+',
      received_at: '2025-12-02T18:26:41.000001Z',
      inserted_at: '2026-12-03T10:00:00.250000Z',
      message_id: 'message-1',
    });
  });

  it('fills exactly the columns of infra/schema/items.json', () => {
    const [row] = itemRows([item], context);
    const columns = readSchemaFields('items.json').map(field => field.name);

    assert.deepEqual(Object.keys(row?.json ?? {}).sort(), columns.sort());
  });
});
