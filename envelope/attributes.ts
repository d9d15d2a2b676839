/**
 * The Pub/Sub attributes of a batch message. They let the function refuse a
 * message it cannot read before touching its data, and let an operator see
 * what a message holds without decoding it.
 */

/** Attribute names, as set by the gateway and read by the function. */
export const ATTRIBUTE = {
  /** Fully qualified protobuf message name of the data. */
  schema: 'schema',
  /** Number of items in the batch, as a decimal string. */
  itemCount: 'item-count',
  /** How the data is compressed; see CONTENT_ENCODINGS. */
  contentEncoding: 'content-encoding',
} as const;

/** The one envelope schema this code writes and reads. */
export const ENVELOPE_SCHEMA = 'ingest.v1.BatchEnvelope';

/** Compressions the gateway may apply to a batch's data. */
export const CONTENT_ENCODINGS = ['identity', 'gzip'] as const;

export type ContentEncoding = (typeof CONTENT_ENCODINGS)[number];

export function isContentEncoding(value: string): value is ContentEncoding {
  return (CONTENT_ENCODINGS as readonly string[]).includes(value);
}
