import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {ItemMessage} from '../../../generated/items.js';
import {
  decodeItemMessage,
  parseCreatedAt,
  parseCreatedAtByPattern,
  UndecodableItem,
} from '../../../gateway/item-validation.js';

/** A number, or the refusal's message: what a client would see. */
function outcome(parse: (text: string, ordinal: number) => number) {
  return (text: string): number | string => {
    try {
      return parse(text, 5);
    } catch (err) {
      return err instanceof Error ? `${err.name}: ${err.message}` : 'thrown';
    }
  };
}
const fast = outcome(parseCreatedAt);
const general = outcome(parseCreatedAtByPattern);

const digits = (min: number, max: number) =>
  fc.string({
    unit: fc.constantFrom(...'0123456789'),
    minLength: min,
    maxLength: max,
  });

/** Text in the fast path's shape, with the odd value or character. */
const nearUtc = fc
  .record({
    year: fc.oneof(
      digits(4, 4),
      fc.constantFrom('1960', '2159', '2160', '1959', '0070'),
    ),
    month: fc.oneof(digits(2, 2), fc.constantFrom('01', '02', '12')),
    day: fc.oneof(digits(2, 2), fc.constantFrom('28', '29', '30', '31')),
    hour: digits(2, 2),
    minute: digits(2, 2),
    second: digits(2, 2),
    fraction: fc.option(digits(0, 8)),
    t: fc.constantFrom('T', 't', ' ', 'x'),
    zone: fc.constantFrom('Z', 'z', '+00:00', '-01:30', '', 'Y'),
  })
  .map(
    p =>
      `${p.year}-${p.month}-${p.day}${p.t}${p.hour}:${p.minute}:${p.second}` +
      `${p.fraction === null ? '' : '.' + p.fraction}${p.zone}`,
  );

/** One character of a valid text replaced by anything. */
const mutated = fc
  .tuple(
    fc.constantFrom(
      '2025-01-31T12:00:00Z',
      '2025-01-31T12:00:00.123456Z',
      '2024-02-29T23:59:59.5z',
    ),
    fc.nat(),
    fc.string({unit: 'binary', minLength: 1, maxLength: 1}),
  )
  .map(([text, at, char]) => {
    const i = at % text.length;
    return text.slice(0, i) + char + text.slice(i + 1);
  });

describe('parseCreatedAt fast path', () => {
  it('gives the general parser’s result or refusal for timestamp-like text', () => {
    fc.assert(
      fc.property(fc.oneof(nearUtc, mutated), text => {
        assert.equal(fast(text), general(text), text);
      }),
      {numRuns: 20_000},
    );
  });

  it('gives the general parser’s result or refusal for any text', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary', maxLength: 30}), text => {
        assert.equal(fast(text), general(text), text);
      }),
      {numRuns: 5_000},
    );
  });
});

/** The generated decoder's outcome, payload copied. */
function reference(bytes: Buffer) {
  try {
    const m = ItemMessage.decode(bytes);
    return {createdAt: m.createdAt, payload: [...m.payload]};
  } catch {
    return 'undecodable';
  }
}

function actual(bytes: Buffer) {
  const m = decodeItemMessage(bytes);
  if (m instanceof UndecodableItem) return 'undecodable';
  return {createdAt: m.createdAt, payload: [...m.payload]};
}

const varint = (value: number) => {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return out;
};

/** A field of any number and wire type, well formed or not. */
const field = fc.oneof(
  fc
    .tuple(fc.constantFrom(1, 2), fc.uint8Array({maxLength: 40}))
    .map(([n, body]) => [(n << 3) | 2, ...varint(body.length), ...body]),
  fc
    .tuple(fc.constantFrom(1, 2), fc.string({maxLength: 8}))
    .map(([n, text]) => {
      const body = [...Buffer.from(text)];
      return [(n << 3) | 2, ...varint(body.length), ...body];
    }),
  // Unknown fields of every wire type, and known numbers with wrong types.
  fc
    .tuple(
      fc.integer({min: 1, max: 40}),
      fc.nat({max: 7}),
      fc.uint8Array({maxLength: 12}),
    )
    .map(([n, wire, body]) => [...varint((n << 3) | wire), ...body]),
  // A length in a long, non-minimal or truncated varint.
  fc
    .tuple(fc.constantFrom(10, 18), fc.uint8Array({minLength: 1, maxLength: 6}))
    .map(([tag, rest]) => [tag, ...rest]),
);

describe('decodeItemMessage', () => {
  it('decodes or refuses any message exactly as the generated decoder does', () => {
    fc.assert(
      fc.property(fc.array(field, {maxLength: 5}), fields => {
        const bytes = Buffer.from(fields.flat());

        assert.deepEqual(actual(bytes), reference(bytes));
      }),
      {numRuns: 20_000},
    );
  });

  it('agrees with the generated decoder on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 64}), raw => {
        const bytes = Buffer.from(raw);

        assert.deepEqual(actual(bytes), reference(bytes));
      }),
      {numRuns: 10_000},
    );
  });

  it('keeps the payload as a view of the message, not a copy', () => {
    const bytes = Buffer.from(
      ItemMessage.encode({
        createdAt: '2025-01-31T12:00:00Z',
        payload: Buffer.from([1, 2, 3]),
      }).finish(),
    );

    const decoded = decodeItemMessage(bytes);

    assert.ok(!(decoded instanceof UndecodableItem));
    assert.equal(decoded.payload.buffer, bytes.buffer);
    assert.deepEqual([...decoded.payload], [1, 2, 3]);
  });
});
