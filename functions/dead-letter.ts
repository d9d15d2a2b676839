/**
 * Dead letters: what the function could not store, written to the errors
 * table (infra/schema/items_errors.json) with the reason, so that nothing
 * is dropped silently. A dead letter that cannot be written fails the
 * event: Pub/Sub redelivers, and the dead letter is tried again.
 */
import type {Logger} from '../runtime/logger.js';
import type {InsertRequestFn} from './bigquery-client.js';
import type {RequestLimits} from './insert-requests.js';
import {insertRows} from './insert-rows.js';
import {formatTimestampMicros, type InsertRow, type ItemRow} from './rows.js';

/** One row of the errors table, in insertAll's JSON form. */
export interface DeadLetterRow {
  failed_at: string;
  reason: string;
  message_id: string;
  stream_id: string | null;
  item_index: number | null;
  /** Base64 of the kept bytes: the row as JSON, or the message data. */
  raw: string | null;
  /** Size of the raw bytes before they were cut to fit. */
  raw_size_bytes: number | null;
  /** The message's attributes as JSON. */
  attributes: string;
}

/** Reasons are sentences; this bound only stops a runaway error message. */
const REASON_MAX_CHARS = 4000;

/** The message a dead letter came from. */
export interface DeadLetterSource {
  messageId: string;
  attributes: Readonly<Record<string, string>>;
}

/** The dead letter of an item row BigQuery refused. */
export function rowDeadLetter(
  source: DeadLetterSource,
  row: InsertRow<ItemRow>,
  reason: string,
  options: {failedAt: Date; rawMaxBytes: number},
): InsertRow<DeadLetterRow> {
  const {stream_id: streamId, item_index: itemIndex} = row.json;
  return {
    insertId: `${source.messageId}:${streamId}:${itemIndex}`,
    json: {
      ...common(source, reason, options.failedAt),
      stream_id: streamId,
      item_index: itemIndex,
      ...rawFields(Buffer.from(JSON.stringify(row.json)), options.rawMaxBytes),
    },
  };
}

/** The dead letter of a whole message that cannot be decoded. */
export function messageDeadLetter(
  source: DeadLetterSource,
  data: Uint8Array,
  reason: string,
  options: {failedAt: Date; rawMaxBytes: number},
): InsertRow<DeadLetterRow> {
  return {
    insertId: source.messageId,
    json: {
      ...common(source, reason, options.failedAt),
      stream_id: null,
      item_index: null,
      ...rawFields(data, options.rawMaxBytes),
    },
  };
}

/** The dead-letter table could not take a dead letter. */
export class DeadLetterWriteError extends Error {
  override name = 'DeadLetterWriteError';
}

/**
 * Writes dead letters and logs each at error level. Throws
 * DeadLetterWriteError if any of them was not stored.
 */
export async function writeDeadLetters(
  insert: InsertRequestFn,
  letters: readonly InsertRow<DeadLetterRow>[],
  limits: RequestLimits,
  log: Logger,
): Promise<void> {
  if (letters.length === 0) return;

  let refused: string | undefined;
  try {
    const {rejected} = await insertRows(insert, letters, limits);
    refused = rejected[0]?.reason;
  } catch (err) {
    log.error({err, deadLetters: letters.length}, 'dead-letter write failed');
    throw new DeadLetterWriteError(
      `${letters.length} dead letters could not be written`,
      {cause: err},
    );
  }
  if (refused !== undefined) {
    log.error({reason: refused}, 'dead-letter table refused a dead letter');
    throw new DeadLetterWriteError(
      `the dead-letter table refused a dead letter: ${refused}`,
    );
  }

  for (const {json} of letters) {
    log.error(
      {
        messageId: json.message_id,
        streamId: json.stream_id,
        itemIndex: json.item_index,
        reason: json.reason,
      },
      json.stream_id === null ? 'message dead-lettered' : 'row dead-lettered',
    );
  }
}

function common(source: DeadLetterSource, reason: string, failedAt: Date) {
  return {
    failed_at: formatTimestampMicros(failedAt.getTime() * 1000),
    reason: reason.slice(0, REASON_MAX_CHARS),
    message_id: source.messageId,
    attributes: JSON.stringify(source.attributes),
  };
}

function rawFields(bytes: Uint8Array, maxBytes: number) {
  const kept = bytes.subarray(0, maxBytes);
  return {
    raw: Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength).toString(
      'base64',
    ),
    raw_size_bytes: bytes.byteLength,
  };
}
