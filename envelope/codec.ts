/**
 * Turns a built envelope into Pub/Sub message data and attributes, and back.
 * The gateway and the function share this file, so the two sides cannot
 * disagree about the format.
 */
import {promisify} from 'node:util';
import {gunzip, gzip} from 'node:zlib';
import {BatchEnvelope} from '../generated/ingest/v1/envelope.js';
import {
  ATTRIBUTE,
  ENVELOPE_SCHEMA,
  isContentEncoding,
  type ContentEncoding,
} from './attributes.js';
import type {BufferPool} from '../runtime/buffer-pool.js';
import type {EnvelopeBuilder, EnvelopeEntry} from './envelope-builder.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The data and attributes of one Pub/Sub message. */
export interface EncodedBatch {
  data: Buffer;
  attributes: Record<string, string>;
}

/** An item read back from an envelope, with its stream id resolved. */
export type DecodedItem = EnvelopeEntry;

/**
 * A message that can never be decoded (wrong schema, unknown encoding,
 * corrupt bytes). Redelivering it would fail the same way, so the function
 * dead-letters it; `reason` says why in one sentence.
 */
export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
  constructor(
    readonly reason: string,
    options?: {cause?: unknown},
  ) {
    super(reason, options);
  }
}

/**
 * Encodes the builder's envelope. gzip runs on libuv's thread pool, off the
 * event loop that serves the gRPC streams. With `buffers`, the envelope is
 * written into one of its buffers: for identity encoding the caller gives
 * `data` back once the batch is published; a gzip input is given back here.
 */
export async function encodeBatch(
  builder: EnvelopeBuilder,
  encoding: ContentEncoding,
  buffers?: BufferPool,
): Promise<EncodedBatch> {
  const raw =
    buffers === undefined
      ? builder.finish()
      : builder.finish(bytes => buffers.take(bytes));
  let data = raw;
  if (encoding === 'gzip') {
    try {
      data = await gzipAsync(raw);
    } finally {
      buffers?.give(raw);
    }
  }
  return {
    data,
    attributes: {
      [ATTRIBUTE.schema]: ENVELOPE_SCHEMA,
      [ATTRIBUTE.itemCount]: String(builder.itemCount),
      [ATTRIBUTE.contentEncoding]: encoding,
    },
  };
}

/**
 * Decodes a batch message. Every way the message can be wrong becomes an
 * EnvelopeError; maxDecodedBytes bounds what gunzip may inflate, so a small
 * hostile message cannot exhaust memory.
 */
export async function decodeBatch(
  data: Uint8Array,
  attributes: Readonly<Record<string, string>>,
  maxDecodedBytes: number,
): Promise<DecodedItem[]> {
  const schema = attributes[ATTRIBUTE.schema];
  if (schema !== ENVELOPE_SCHEMA) {
    throw new EnvelopeError(
      `attribute ${ATTRIBUTE.schema} is ${quote(schema)}, ` +
        `expected "${ENVELOPE_SCHEMA}"`,
    );
  }
  const encoding = attributes[ATTRIBUTE.contentEncoding] ?? 'identity';
  if (!isContentEncoding(encoding)) {
    throw new EnvelopeError(
      `attribute ${ATTRIBUTE.contentEncoding} is ${quote(encoding)}, ` +
        'which this version cannot decode',
    );
  }

  const raw = await inflate(data, encoding, maxDecodedBytes);
  const envelope = parse(raw);
  const items = envelope.items.map((item, position) => {
    const streamId = envelope.streamIds[item.streamIndex];
    if (streamId === undefined) {
      throw new EnvelopeError(
        `item at position ${position} refers to stream index ` +
          `${item.streamIndex}, but the envelope has ` +
          `${envelope.streamIds.length} stream ids`,
      );
    }
    return {
      streamId,
      ordinal: item.ordinal,
      createdAtMicros: item.createdAtMicros,
      payload: item.payload,
      receivedAtMicros: item.receivedAtMicros,
    };
  });

  const declared = attributes[ATTRIBUTE.itemCount];
  if (declared !== undefined && declared !== String(items.length)) {
    throw new EnvelopeError(
      `attribute ${ATTRIBUTE.itemCount} says ${quote(declared)} ` +
        `but the data holds ${items.length} items`,
    );
  }
  return items;
}

async function inflate(
  data: Uint8Array,
  encoding: ContentEncoding,
  maxDecodedBytes: number,
): Promise<Uint8Array> {
  if (encoding === 'identity') return data;
  try {
    return await gunzipAsync(data, {maxOutputLength: maxDecodedBytes});
  } catch (err) {
    throw new EnvelopeError(
      `gzip data does not inflate within ${maxDecodedBytes} bytes: ` +
        (err instanceof Error ? err.message : String(err)),
      {cause: err},
    );
  }
}

function parse(raw: Uint8Array): BatchEnvelope {
  try {
    return BatchEnvelope.decode(raw);
  } catch (err) {
    throw new EnvelopeError(
      'data is not a valid ingest.v1.BatchEnvelope: ' +
        (err instanceof Error ? err.message : String(err)),
      {cause: err},
    );
  }
}

function quote(value: string | undefined): string {
  return value === undefined ? 'missing' : JSON.stringify(value.slice(0, 64));
}
