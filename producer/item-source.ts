/**
 * Where the producer's items come from: NDJSON lines a user wrote, or
 * synthetic items computed from their position, so that a retried stream
 * resends exactly the same items and a checker can recompute what it expects.
 */
import {createHash} from 'node:crypto';
import type {ItemMessage} from '../generated/items.js';

/** One NDJSON line that could not become an item. */
export class InputLineError extends Error {
  override name = 'InputLineError';
  constructor(
    readonly lineNumber: number,
    readonly reason: string,
  ) {
    super(`line ${lineNumber}: ${reason}`);
  }
}

/** How the `payload` field of an NDJSON line is written. */
export type PayloadFormat = 'base64' | 'text';

const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses NDJSON text into items, one `{"createdAt": …, "payload": …}` per
 * line; blank lines are skipped. Collects every bad line rather than
 * stopping at the first, so a user fixes a file in one pass. createdAt is
 * passed on as written: the gateway is the one judge of its validity.
 */
export function parseNdjson(
  text: string,
  format: PayloadFormat,
): {items: ItemMessage[]; errors: InputLineError[]} {
  const items: ItemMessage[] = [];
  const errors: InputLineError[] = [];
  const lines = text.split('\n');

  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      items.push(parseLine(line, format));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      errors.push(new InputLineError(index + 1, reason));
    }
  });
  return {items, errors};
}

function parseLine(line: string, format: PayloadFormat): ItemMessage {
  const value: unknown = JSON.parse(line);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('is not a JSON object');
  }
  const {createdAt, payload} = value as Record<string, unknown>;
  if (typeof createdAt !== 'string') {
    throw new Error('createdAt must be a string');
  }
  if (typeof payload !== 'string') {
    throw new Error('payload must be a string');
  }
  if (format === 'base64' && !BASE64.test(payload)) {
    throw new Error('payload is not base64 (use --text for plain text)');
  }
  return {
    createdAt,
    payload: Buffer.from(payload, format === 'base64' ? 'base64' : 'utf8'),
  };
}

/** Parameters that, with a position, determine a synthetic item fully. */
export interface SyntheticSpec {
  /** Payload size in bytes. */
  payloadBytes: number;
  /** createdAt of item 0, in microseconds since the epoch. */
  baseMicros: number;
  /** Distinguishes runs, so two runs never send the same payloads. */
  seed: string;
}

/**
 * The synthetic item at `ordinal` of stream `streamIndex`. createdAt steps
 * by 1,001 µs so that every microsecond digit varies; the payload is
 * pseudo-random bytes, non-UTF-8 included, derived from the position.
 */
export function syntheticItem(
  spec: SyntheticSpec,
  streamIndex: number,
  ordinal: number,
): ItemMessage {
  return {
    createdAt: formatMicros(syntheticMicros(spec, streamIndex, ordinal)),
    payload: syntheticPayload(spec, streamIndex, ordinal),
  };
}

/** The createdAt of a synthetic item, in microseconds since the epoch. */
export function syntheticMicros(
  spec: SyntheticSpec,
  streamIndex: number,
  ordinal: number,
): number {
  return spec.baseMicros + ordinal * 1_001 + streamIndex;
}

function syntheticPayload(
  spec: SyntheticSpec,
  streamIndex: number,
  ordinal: number,
): Buffer {
  const payload = Buffer.alloc(spec.payloadBytes);
  const seed = createHash('sha256')
    .update(`${spec.seed}:${streamIndex}:${ordinal}`)
    .digest();
  // Stretch the 32-byte digest cheaply: hashing every 32 bytes would make
  // the load generator, not the gateway, the bottleneck for large payloads.
  for (let i = 0; i < payload.length; i++) {
    payload[i] = (seed[i % 32] ?? 0) ^ (i >>> 5);
  }
  return payload;
}

/** RFC 3339 in UTC with exactly six fractional digits. */
export function formatMicros(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const iso = new Date(millis).toISOString(); // …T10:11:12.123Z
  const extra = String(micros - millis * 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${extra}Z`;
}
