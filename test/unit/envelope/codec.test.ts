import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {gzipSync} from 'node:zlib';
import {EnvelopeBuilder} from '../../../envelope/envelope-builder.js';
import {
  decodeBatch,
  encodeBatch,
  EnvelopeError,
} from '../../../envelope/codec.js';
import {ATTRIBUTE} from '../../../envelope/attributes.js';

const MAX_DECODED = 16 * 1024 * 1024;

function entry(streamId: string, ordinal: number, payload: number[]) {
  return {
    streamId,
    ordinal,
    createdAtMicros: 1_764_700_000_123_456 + ordinal,
    payload: Uint8Array.from(payload),
    receivedAtMicros: 1_764_700_001_000_000 + ordinal,
  };
}

describe('envelope codec', () => {
  for (const encoding of ['identity', 'gzip'] as const) {
    it(`round-trips items of several streams with ${encoding}`, async () => {
      const builder = new EnvelopeBuilder();
      const entries = [
        entry('stream-a', 0, [0xff, 0x00, 0xfe]),
        entry('stream-b', 0, []),
        entry('stream-a', 1, [0x80]),
      ];
      for (const e of entries) assert.ok(builder.tryAdd(e, 1 << 20));

      const batch = await encodeBatch(builder, encoding);
      const decoded = await decodeBatch(
        batch.data,
        batch.attributes,
        MAX_DECODED,
      );

      assert.deepEqual(
        decoded.map(d => ({...d, payload: [...d.payload]})),
        entries.map(e => ({...e, payload: [...e.payload]})),
      );
      assert.equal(batch.attributes[ATTRIBUTE.itemCount], '3');
      assert.equal(batch.attributes[ATTRIBUTE.contentEncoding], encoding);
    });
  }

  it('stores each stream id once per envelope', () => {
    const builder = new EnvelopeBuilder();
    const id = 'a-long-stream-identifier';

    for (let i = 0; i < 3; i++) builder.tryAdd(entry(id, i, [1]), 1 << 20);

    const text = builder.finish().toString('latin1');
    assert.equal(text.split(id).length - 1, 1);
    assert.deepEqual(builder.streams, [id]);
  });

  it('knows its exact encoded size', () => {
    const builder = new EnvelopeBuilder();
    for (let i = 0; i < 50; i++) {
      builder.tryAdd(entry(`s${i % 7}`, i, new Array(i * 13).fill(7)), 1e9);
    }

    assert.equal(builder.finish().length, builder.encodedBytes);
  });

  it('refuses an item that would pass maxBytes, unless it is the first', () => {
    const builder = new EnvelopeBuilder();
    const big = entry('s', 0, new Array(100).fill(1));

    assert.equal(builder.tryAdd(big, 10), true);
    assert.equal(builder.tryAdd({...big, ordinal: 1}, 10), false);
    assert.equal(builder.itemCount, 1);
  });

  it('rejects an unknown schema attribute as an EnvelopeError', async () => {
    await assert.rejects(
      decodeBatch(Buffer.alloc(0), {schema: 'other.v9.Thing'}, MAX_DECODED),
      (err: unknown) =>
        err instanceof EnvelopeError && /other\.v9\.Thing/.test(err.reason),
    );
  });

  it('rejects an unknown content encoding', async () => {
    await assert.rejects(
      decodeBatch(
        Buffer.alloc(0),
        {schema: 'ingest.v1.BatchEnvelope', 'content-encoding': 'br'},
        MAX_DECODED,
      ),
      /content-encoding is "br"/,
    );
  });

  it('rejects bytes that are not an envelope', async () => {
    await assert.rejects(
      decodeBatch(
        Buffer.from([0x12, 0xff, 0xff, 0xff]),
        {schema: 'ingest.v1.BatchEnvelope'},
        MAX_DECODED,
      ),
      EnvelopeError,
    );
  });

  it('bounds what gzip may inflate', async () => {
    const bomb = gzipSync(Buffer.alloc(1_000_000));

    await assert.rejects(
      decodeBatch(
        bomb,
        {schema: 'ingest.v1.BatchEnvelope', 'content-encoding': 'gzip'},
        1000,
      ),
      /does not inflate within 1000 bytes/,
    );
  });

  it('rejects an item count that disagrees with the data', async () => {
    const builder = new EnvelopeBuilder();
    builder.tryAdd(entry('s', 0, [1]), 1 << 20);
    const batch = await encodeBatch(builder, 'identity');

    await assert.rejects(
      decodeBatch(
        batch.data,
        {...batch.attributes, [ATTRIBUTE.itemCount]: '2'},
        MAX_DECODED,
      ),
      /says "2" but the data holds 1 items/,
    );
  });

  it('rejects a stream index outside the stream ids', async () => {
    const builder = new EnvelopeBuilder();
    builder.tryAdd(entry('s', 0, [1]), 1 << 20);
    const data = builder.finish();
    // Drop the leading stream_ids field: the item's index 0 dangles.
    const withoutIds = data.subarray(2 + 's'.length);

    await assert.rejects(
      decodeBatch(withoutIds, {schema: 'ingest.v1.BatchEnvelope'}, 1 << 20),
      /refers to stream index 0, but the envelope has 0 stream ids/,
    );
  });
});
