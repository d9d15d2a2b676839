import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {Metadata} from '@grpc/grpc-js';
import {streamIdFor, uuidV7} from '../../../gateway/stream-id.js';
import {InvalidIdempotencyKeyError} from '../../../gateway/status.js';

const UUID_V7 =
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function withKey(...values: string[]): Metadata {
  const metadata = new Metadata();
  for (const value of values) metadata.add('idempotency-key', value);
  return metadata;
}

describe('uuidV7', () => {
  it('has version 7, the RFC variant, and the time in its first 48 bits', () => {
    const nowMs = 0x0193_4567_89ab;

    const id = uuidV7(nowMs);

    assert.match(id, UUID_V7);
    assert.equal(id.slice(0, 8) + id.slice(9, 13), '0193456789ab');
  });

  it('differs from call to call', () => {
    const ids = new Set(Array.from({length: 1000}, () => uuidV7(1)));

    assert.equal(ids.size, 1000);
  });
});

describe('streamIdFor', () => {
  it('is a fresh UUIDv7 without an idempotency key', () => {
    assert.match(streamIdFor(new Metadata(), 64), UUID_V7);
  });

  it('is the idempotency key when one is given', () => {
    assert.equal(
      streamIdFor(withKey('order-2025-01/7:a'), 64),
      'order-2025-01/7:a',
    );
  });

  const refused: [string, Metadata, RegExp][] = [
    ['a key given twice', withKey('a', 'b'), /is given 2 times/],
    [
      'a key over the length limit',
      withKey('k'.repeat(65)),
      /65 characters, over the limit IDEMPOTENCY_KEY_MAX_LENGTH=64/,
    ],
    [
      'a key with a space',
      withKey('a b'),
      /"a b" must be non-empty visible ASCII/,
    ],
    // grpc-js itself refuses metadata values outside printable ASCII.
    ['an empty key', withKey(''), /"" must be non-empty visible ASCII/],
  ];
  for (const [what, metadata, expected] of refused) {
    it(`refuses ${what} with INVALID_ARGUMENT`, () => {
      assert.throws(
        () => streamIdFor(metadata, 64),
        (err: unknown) =>
          err instanceof InvalidIdempotencyKeyError &&
          expected.test(err.message),
      );
    });
  }
});
