/**
 * The id of a stream: the client's `idempotency-key` metadata when given,
 * else a fresh UUIDv7. With the item's ordinal it forms the item's identity
 * end to end, so a client that retries with the same key and the same items
 * produces rows that deduplicate downstream.
 */
import {randomFillSync} from 'node:crypto';
import type {Metadata} from '@grpc/grpc-js';
import {quote} from './item-validation.js';
import {InvalidIdempotencyKeyError} from './status.js';

/** Metadata key a client sets to choose its stream id. */
export const IDEMPOTENCY_KEY_METADATA = 'idempotency-key';

// Visible ASCII only: no spaces (HTTP/2 may trim them, changing the id on
// the way) and no control characters (they would corrupt logs and ids).
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * The stream id for a call with `metadata`. Throws InvalidIdempotencyKeyError
 * when the key is given more than once, empty, too long or not visible
 * ASCII.
 */
export function streamIdFor(metadata: Metadata, maxLength: number): string {
  const values = metadata.get(IDEMPOTENCY_KEY_METADATA);
  if (values.length === 0) return uuidV7();
  if (values.length > 1) {
    throw new InvalidIdempotencyKeyError(
      `metadata ${IDEMPOTENCY_KEY_METADATA} is given ${values.length} ` +
        'times; send it once',
    );
  }
  const [value] = values;
  if (typeof value !== 'string') {
    throw new InvalidIdempotencyKeyError(
      `metadata ${IDEMPOTENCY_KEY_METADATA} must be text, not binary`,
    );
  }
  if (value.length > maxLength) {
    throw new InvalidIdempotencyKeyError(
      `metadata ${IDEMPOTENCY_KEY_METADATA} ${quote(value)} is ` +
        `${value.length} characters, over the limit ` +
        `IDEMPOTENCY_KEY_MAX_LENGTH=${maxLength}`,
    );
  }
  if (!VISIBLE_ASCII.test(value)) {
    throw new InvalidIdempotencyKeyError(
      `metadata ${IDEMPOTENCY_KEY_METADATA} ${quote(value)} must be ` +
        'non-empty visible ASCII (0x21 to 0x7e)',
    );
  }
  return value;
}

const random = Buffer.alloc(10);

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so
 * ids sort roughly by creation time, which keeps BigQuery's insert ids and
 * logs easy to scan.
 */
export function uuidV7(nowMs: number = Date.now()): string {
  randomFillSync(random);
  const time = nowMs.toString(16).padStart(12, '0').slice(-12);
  const hex = random.toString('hex');
  // Version 7 in the high nibble of byte 6; variant 0b10 in byte 8.
  const randA = (0x7000 | (random.readUInt16BE(0) & 0x0fff)).toString(16);
  const variant = (0x80 | ((random[2] ?? 0) & 0x3f)).toString(16);
  return (
    `${time.slice(0, 8)}-${time.slice(8)}-${randA}-` +
    `${variant}${hex.slice(6, 8)}-${hex.slice(8, 20)}`
  );
}
