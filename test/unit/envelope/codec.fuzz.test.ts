import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {gzipSync} from 'node:zlib';
import fc from 'fast-check';
import {ATTRIBUTE, ENVELOPE_SCHEMA} from '../../../envelope/attributes.js';
import {
  decodeBatch,
  encodeBatch,
  EnvelopeError,
} from '../../../envelope/codec.js';
import {
  EnvelopeBuilder,
  type EnvelopeEntry,
} from '../../../envelope/envelope-builder.js';

const MAX_DECODED_BYTES = 4 * 1024 * 1024;

/** Microseconds as the gateway produces them: safe, non-negative integers. */
const micros = fc.integer({min: 0, max: Number.MAX_SAFE_INTEGER});

const entry: fc.Arbitrary<EnvelopeEntry> = fc.record({
  // Few distinct ids, so envelopes often hold several items of one stream.
  streamId: fc.oneof(
    fc.constantFrom('a', 'b', '0195f6c2-7d1e-7000-8000-000000000000'),
    fc.string({minLength: 1, maxLength: 64}),
  ),
  ordinal: fc.nat({max: 2 ** 32 - 1}),
  createdAtMicros: micros,
  payload: fc.uint8Array({maxLength: 300}),
  receivedAtMicros: micros,
});

function plain(e: EnvelopeEntry) {
  return {...e, payload: Buffer.from(e.payload).toString('hex')};
}

/** Asserts `err` is an EnvelopeError; anything else is a decoder crash. */
function assertEnvelopeError(err: unknown): void {
  assert.ok(
    err instanceof EnvelopeError,
    `expected an EnvelopeError, got ${String(err)}`,
  );
}

async function decodeOutcome(
  data: Uint8Array,
  attributes: Record<string, string>,
): Promise<void> {
  try {
    await decodeBatch(data, attributes, MAX_DECODED_BYTES);
  } catch (err) {
    assertEnvelopeError(err);
  }
}

describe('envelope codec under arbitrary input', () => {
  for (const encoding of ['identity', 'gzip'] as const) {
    it(`decodes what it encoded with ${encoding}, item for item`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(entry, {minLength: 1, maxLength: 40}),
          async entries => {
            const builder = new EnvelopeBuilder();
            for (const e of entries) {
              assert.ok(builder.tryAdd(e, Number.MAX_SAFE_INTEGER));
            }

            const batch = await encodeBatch(builder, encoding);
            const decoded = await decodeBatch(
              batch.data,
              batch.attributes,
              MAX_DECODED_BYTES,
            );

            assert.deepEqual(decoded.map(plain), entries.map(plain));
            assert.equal(
              batch.attributes[ATTRIBUTE.itemCount],
              String(entries.length),
            );
          },
        ),
        {numRuns: 300},
      );
    });
  }

  it('keeps the exact encoded size the builder predicts', () => {
    fc.assert(
      fc.property(fc.array(entry, {maxLength: 40}), entries => {
        const builder = new EnvelopeBuilder();
        for (const e of entries) builder.tryAdd(e, Number.MAX_SAFE_INTEGER);

        assert.equal(builder.finish().length, builder.encodedBytes);
      }),
      {numRuns: 300},
    );
  });

  it('never takes an envelope past maxBytes unless it holds one item', () => {
    fc.assert(
      fc.property(
        fc.array(entry, {minLength: 1, maxLength: 40}),
        fc.integer({min: 1, max: 4_000}),
        (entries, maxBytes) => {
          const builder = new EnvelopeBuilder();
          for (const e of entries) builder.tryAdd(e, maxBytes);

          assert.ok(builder.itemCount >= 1);
          if (builder.itemCount > 1) {
            assert.ok(builder.encodedBytes <= maxBytes);
          }
        },
      ),
      {numRuns: 300},
    );
  });

  const attributeSets: [string, Record<string, string>][] = [
    ['identity', {[ATTRIBUTE.schema]: ENVELOPE_SCHEMA}],
    [
      'gzip',
      {
        [ATTRIBUTE.schema]: ENVELOPE_SCHEMA,
        [ATTRIBUTE.contentEncoding]: 'gzip',
      },
    ],
  ];
  for (const [what, attributes] of attributeSets) {
    it(`fails arbitrary bytes only with EnvelopeError (${what})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({maxLength: 512}), bytes =>
          decodeOutcome(bytes, attributes),
        ),
        {numRuns: 2_000},
      );
    });
  }

  it('fails gzip of arbitrary bytes only with EnvelopeError', async () => {
    const gzip = attributeSets[1]?.[1] ?? assert.fail('no gzip attributes');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({maxLength: 512}), bytes =>
        decodeOutcome(gzipSync(bytes), gzip),
      ),
      {numRuns: 1_000},
    );
  });

  it('fails a valid envelope with bytes flipped only with EnvelopeError, or decodes it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(entry, {minLength: 1, maxLength: 10}),
        fc.array(fc.tuple(fc.nat(), fc.integer({min: 1, max: 255})), {
          minLength: 1,
          maxLength: 4,
        }),
        async (entries, flips) => {
          const builder = new EnvelopeBuilder();
          for (const e of entries) builder.tryAdd(e, Number.MAX_SAFE_INTEGER);
          const batch = await encodeBatch(builder, 'identity');
          const data = Buffer.from(batch.data);
          for (const [position, mask] of flips) {
            const at = position % data.length;
            data[at] = (data[at] ?? 0) ^ mask;
          }

          await decodeOutcome(data, batch.attributes);
        },
      ),
      {numRuns: 1_000},
    );
  });

  it('fails arbitrary attributes only with EnvelopeError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom(
            ATTRIBUTE.schema,
            ATTRIBUTE.contentEncoding,
            ATTRIBUTE.itemCount,
            'other',
          ),
          fc.oneof(
            fc.constantFrom(ENVELOPE_SCHEMA, 'gzip', 'identity', '1', '0'),
            fc.string({maxLength: 20}),
          ),
        ),
        fc.uint8Array({maxLength: 64}),
        (attributes, bytes) => decodeOutcome(bytes, attributes),
      ),
      {numRuns: 1_000},
    );
  });
});
