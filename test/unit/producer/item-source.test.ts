import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
  formatMicros,
  parseNdjson,
  syntheticItem,
  syntheticMicros,
} from '../../../producer/item-source.js';

describe('parseNdjson', () => {
  it('reads base64 payloads and skips blank lines', () => {
    const text =
      '{"createdAt":"2026-01-01T00:00:00Z","payload":"/wA="}\n\n' +
      '{"createdAt":"2026-01-01T00:00:01+02:00","payload":""}\n';

    const {items, errors} = parseNdjson(text, 'base64');

    assert.deepEqual(errors, []);
    assert.deepEqual(
      items.map(item => [item.createdAt, item.payload.toString('hex')]),
      [
        ['2026-01-01T00:00:00Z', 'ff00'],
        ['2026-01-01T00:00:01+02:00', ''],
      ],
    );
  });

  it('reads text payloads as UTF-8 with --text', () => {
    const {items} = parseNdjson(
      '{"createdAt":"2026-01-01T00:00:00Z","payload":"héllo"}',
      'text',
    );

    assert.equal(items[0]?.payload.toString('utf8'), 'héllo');
  });

  it('names every bad line by its number and reason', () => {
    const text = [
      '{"createdAt":"2026-01-01T00:00:00Z","payload":"AA=="}',
      'not json',
      '{"createdAt":5,"payload":"AA=="}',
      '{"createdAt":"2026-01-01T00:00:00Z","payload":"%%%"}',
      '[1,2]',
    ].join('\n');

    const {items, errors} = parseNdjson(text, 'base64');

    assert.equal(items.length, 1);
    assert.deepEqual(
      errors.map(e => e.lineNumber),
      [2, 3, 4, 5],
    );
    assert.match(
      errors[1]?.message ?? '',
      /^line 3: createdAt must be a string/,
    );
    assert.match(errors[2]?.message ?? '', /not base64/);
    assert.match(errors[3]?.message ?? '', /not a JSON object/);
  });
});

describe('synthetic items', () => {
  const spec = {
    payloadBytes: 100,
    baseMicros: 1_700_000_000_000_001,
    seed: 's',
  };

  it('are the same for the same position, so retries resend them exactly', () => {
    const first = syntheticItem(spec, 2, 41);
    const again = syntheticItem(spec, 2, 41);

    assert.deepEqual(again, first);
    assert.notDeepEqual(syntheticItem(spec, 2, 42).payload, first.payload);
    assert.equal(first.payload.length, 100);
  });

  it('carry a createdAt that parses back to their micros', () => {
    const item = syntheticItem(spec, 1, 7);
    const micros = syntheticMicros(spec, 1, 7);

    assert.equal(item.createdAt, formatMicros(micros));
    assert.match(item.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(Date.parse(item.createdAt), Math.floor(micros / 1000));
  });
});

describe('formatMicros', () => {
  it('keeps all six fractional digits', () => {
    assert.equal(
      formatMicros(Date.UTC(2026, 11, 3, 10, 11, 12) * 1000 + 123_456),
      '2026-12-03T10:11:12.123456Z',
    );
    assert.equal(formatMicros(7), '1970-01-01T00:00:00.000007Z');
  });
});
