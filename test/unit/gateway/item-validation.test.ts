import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {ItemMessage} from '../../../generated/items.js';
import {
  checkPayloadSize,
  decodeItemMessage,
  MAX_CREATED_AT_MICROS,
  MIN_CREATED_AT_MICROS,
  parseCreatedAt,
  UndecodableItem,
} from '../../../gateway/item-validation.js';
import {InvalidItemError} from '../../../gateway/status.js';

function refusal(text: string, ordinal = 7): InvalidItemError {
  try {
    parseCreatedAt(text, ordinal);
  } catch (err) {
    assert.ok(err instanceof InvalidItemError);
    return err;
  }
  assert.fail(`${JSON.stringify(text)} was accepted`);
}

describe('parseCreatedAt', () => {
  const accepted: [string, number][] = [
    ['2025-01-31T12:00:00Z', Date.UTC(2025, 0, 31, 12) * 1000],
    ['2025-01-31T12:00:00.5Z', Date.UTC(2025, 0, 31, 12) * 1000 + 500_000],
    ['2025-01-31T12:00:00.123456Z', Date.UTC(2025, 0, 31, 12) * 1000 + 123_456],
    ['2025-01-31t12:00:00z', Date.UTC(2025, 0, 31, 12) * 1000],
    ['2025-01-31T13:30:00+01:30', Date.UTC(2025, 0, 31, 12) * 1000],
    ['2025-01-31T07:00:00-05:00', Date.UTC(2025, 0, 31, 12) * 1000],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29) * 1000],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29) * 1000],
    ['1960-01-01T00:00:00Z', MIN_CREATED_AT_MICROS],
    ['2159-12-31T23:59:59.999999Z', MAX_CREATED_AT_MICROS],
    ['1960-01-01T01:00:00+01:00', MIN_CREATED_AT_MICROS],
  ];
  for (const [text, micros] of accepted) {
    it(`reads ${text} as ${micros} UTC microseconds`, () => {
      assert.equal(parseCreatedAt(text, 0), micros);
    });
  }

  const refused: [string, string, RegExp][] = [
    ['an empty value', '', /is not an RFC 3339 timestamp/],
    ['garbage', 'yesterday', /is not an RFC 3339 timestamp/],
    ['no offset', '2025-01-31T12:00:00', /with an offset/],
    ['a date only', '2025-01-31', /is not an RFC 3339/],
    ['a space separator', '2025-01-31 12:00:00Z', /is not an RFC 3339/],
    ['nanoseconds', '2025-01-31T12:00:00.1234567Z', /microsecond precision/],
    ['February 30', '2025-02-30T00:00:00Z', /day that does not exist/],
    ['February 29 of 2023', '2023-02-29T00:00:00Z', /day that does not exist/],
    ['February 29 of 1900', '1900-02-29T00:00:00Z', /day that does not exist/],
    ['month 13', '2025-13-01T00:00:00Z', /day that does not exist/],
    ['hour 24', '2025-01-31T24:00:00Z', /time of day that does not exist/],
    ['a leap second', '2016-12-31T23:59:60Z', /time of day that does not/],
    ['offset +24:00', '2025-01-31T12:00:00+24:00', /offset that does not/],
    ['1959', '1959-12-31T23:59:59.999999Z', /outside the range/],
    ['2160', '2160-01-01T00:00:00Z', /outside the range/],
    ['an offset past 1960', '1960-01-01T00:30:00+01:00', /outside the range/],
    ['year 0070', '0070-01-01T00:00:00Z', /outside the range/],
    ['year 9999', '9999-12-31T23:59:59Z', /outside the range/],
  ];
  for (const [what, text, why] of refused) {
    it(`refuses ${what} with INVALID_ARGUMENT naming item, field and value`, () => {
      const err = refusal(text);

      assert.match(err.message, why);
      assert.match(err.message, /^item 7: createdAt /);
      assert.ok(err.message.includes(JSON.stringify(text)));
      assert.equal(err.field, 'createdAt');
      assert.equal(err.ordinal, 7);
    });
  }

  it('quotes a long value only in part', () => {
    const err = refusal('x'.repeat(10_000));

    assert.ok(err.message.length < 300);
    assert.match(err.message, /"x{64}"\.\.\./);
  });

  it('agrees with Date for any instant in range and any offset', () => {
    fc.assert(
      fc.property(
        fc.integer({min: MIN_CREATED_AT_MICROS, max: MAX_CREATED_AT_MICROS}),
        fc.integer({min: -23 * 60 - 59, max: 23 * 60 + 59}),
        fc.integer({min: 0, max: 6}),
        (micros, offsetMinutes, digits) => {
          const scale = 10 ** (6 - digits);
          const truncated = Math.floor(micros / scale) * scale;
          const text = format(truncated, offsetMinutes, digits);

          assert.equal(parseCreatedAt(text, 0), truncated, text);
        },
      ),
      {numRuns: 2_000},
    );
  });
});

/** RFC 3339 text of `micros` seen from an offset, with `digits` decimals. */
function format(micros: number, offsetMinutes: number, digits: number) {
  const local = new Date(Math.floor(micros / 1000) + offsetMinutes * 60_000);
  const base = local.toISOString().slice(0, 19);
  const fraction = String(((micros % 1e6) + 1e6) % 1e6).padStart(6, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset =
    `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:` +
    `${String(abs % 60).padStart(2, '0')}`;
  return `${base}${digits > 0 ? '.' + fraction.slice(0, digits) : ''}${offset}`;
}

describe('checkPayloadSize', () => {
  it('accepts an empty payload and one at the limit', () => {
    checkPayloadSize(0, 0, 10, 'GATEWAY_MAX_PAYLOAD_BYTES');
    checkPayloadSize(10, 0, 10, 'GATEWAY_MAX_PAYLOAD_BYTES');
  });

  it('refuses a payload over the limit, naming size, limit and setting', () => {
    assert.throws(
      () => checkPayloadSize(11, 3, 10, 'GATEWAY_MAX_PAYLOAD_BYTES'),
      (err: unknown) =>
        err instanceof InvalidItemError &&
        err.field === 'payload' &&
        err.message ===
          'item 3: payload is 11 bytes, over the limit ' +
            'GATEWAY_MAX_PAYLOAD_BYTES=10',
    );
  });
});

describe('decodeItemMessage', () => {
  it('decodes a message and skips unknown fields', () => {
    const known = ItemMessage.encode({
      createdAt: '2025-01-31T12:00:00Z',
      payload: Buffer.from([1, 2, 3]),
    }).finish();
    // Field 15, varint 1: a field a newer client might send.
    const bytes = Buffer.concat([Buffer.from([0x78, 0x01]), known]);

    const decoded = decodeItemMessage(bytes);

    assert.ok(!(decoded instanceof UndecodableItem));
    assert.equal(decoded.createdAt, '2025-01-31T12:00:00Z');
    assert.deepEqual([...decoded.payload], [1, 2, 3]);
  });

  it('turns bytes that are not a protobuf into UndecodableItem', () => {
    // Field 2, length-delimited, claiming 100 bytes that are not there.
    const decoded = decodeItemMessage(Buffer.from([0x12, 0x64, 0x01]));

    assert.ok(decoded instanceof UndecodableItem);
    assert.ok(decoded.reason.length > 0);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 64}), bytes => {
        decodeItemMessage(Buffer.from(bytes));
      }),
    );
  });
});
