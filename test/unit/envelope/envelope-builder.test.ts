import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EnvelopeBuilder,
  type EnvelopeEntry,
} from '../../../envelope/envelope-builder.js';
import {BatchEnvelope} from '../../../generated/ingest/v1/envelope.js';

/** Any int64 a double holds exactly, negatives (before 1970) included. */
const int64 = fc.oneof(
  fc.constant(0),
  fc.integer({min: -(2 ** 31), max: 2 ** 31}),
  fc.maxSafeInteger(),
  fc.maxSafeInteger().map(v => -v),
  fc.constantFrom(2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 60, -(2 ** 63)),
);

const entry: fc.Arbitrary<EnvelopeEntry> = fc.record({
  streamId: fc.oneof(
    fc.constantFrom('a', 'b', ''),
    fc.string({unit: 'binary', maxLength: 70}),
  ),
  ordinal: fc.oneof(fc.nat(), fc.maxSafeInteger().map(Math.abs)),
  createdAtMicros: int64,
  payload: fc.oneof(
    fc.uint8Array({maxLength: 200}),
    fc.constant(new Uint8Array(20_000).fill(7)),
  ),
  receivedAtMicros: int64,
});

/** What the generated encoder writes for the same entries, in order. */
function reference(entries: EnvelopeEntry[]): Uint8Array {
  const streamIds: string[] = [];
  const items = entries.map(e => {
    let streamIndex = streamIds.indexOf(e.streamId);
    if (streamIndex === -1) streamIndex = streamIds.push(e.streamId) - 1;
    return {...e, streamIndex, payload: Buffer.from(e.payload)};
  });
  return BatchEnvelope.encode({streamIds, items}).finish();
}

describe('EnvelopeBuilder', () => {
  it('writes the same bytes as the generated encoder and sizes them exactly', () => {
    fc.assert(
      fc.property(fc.array(entry, {maxLength: 30}), entries => {
        const builder = new EnvelopeBuilder();
        for (const e of entries) {
          assert.ok(builder.tryAdd(e, Number.MAX_SAFE_INTEGER));
        }

        const bytes = builder.finish();

        const expected = reference(entries);
        assert.equal(builder.encodedBytes, expected.length);
        assert.deepEqual(bytes, Buffer.from(expected));
      }),
      {numRuns: 2_000},
    );
  });

  it('refuses an item that would pass the limit by a single byte', () => {
    fc.assert(
      fc.property(fc.array(entry, {minLength: 2, maxLength: 10}), entries => {
        const first = entries.slice(0, -1);
        const last = entries.at(-1);
        assert.ok(last !== undefined);
        const whole = reference(entries).length;
        const builder = new EnvelopeBuilder();
        for (const e of first) builder.tryAdd(e, Number.MAX_SAFE_INTEGER);

        const accepted = builder.tryAdd(last, whole - 1);

        assert.equal(accepted, false);
        assert.equal(builder.itemCount, first.length);
        assert.ok(builder.tryAdd(last, whole));
        assert.equal(builder.encodedBytes, whole);
      }),
      {numRuns: 500},
    );
  });

  it('copies the payloads only in finish, so a finished envelope is its own', () => {
    const payload = Uint8Array.from([1, 2, 3]);
    const builder = new EnvelopeBuilder();
    builder.tryAdd(
      {
        streamId: 's',
        ordinal: 1,
        createdAtMicros: 2,
        payload,
        receivedAtMicros: 3,
      },
      1 << 20,
    );

    const bytes = builder.finish();
    payload.fill(9);

    assert.deepEqual([...bytes.subarray(-5, -2)], [1, 2, 3]);
  });
});
