/**
 * Turns decoded items into insertAll rows of the items table
 * (infra/schema/items.json). Each row carries the insert id
 * `${stream_id}:${item_index}`: a redelivered batch produces the very same
 * ids, which is what lets BigQuery and the dedup view drop the copies.
 */
import type {DecodedItem} from '../envelope/codec.js';

/** One row of the items table, in the JSON form insertAll takes. */
export interface ItemRow {
  stream_id: string;
  item_index: number;
  /** RFC 3339 with six fractional digits, so microseconds survive. */
  created_at: string;
  /** Base64, the JSON form of BYTES. */
  payload: string;
  received_at: string;
  inserted_at: string;
  message_id: string;
}

/** A row with its insert id, exactly as insertAll takes it with raw: true. */
export interface InsertRow<T = object> {
  insertId: string;
  json: T;
}

/** The insert id of an item: its identity, the same on every delivery. */
export function insertIdOf(streamId: string, itemIndex: number): string {
  return `${streamId}:${itemIndex}`;
}

/**
 * Builds one row per item, in the items' order. No item can be refused
 * here: the codec only yields safe-integer microseconds (years 1685 to
 * 2255), all inside BigQuery's TIMESTAMP range; what BigQuery itself
 * refuses (say, a partition it does not accept) comes back per row.
 */
export function itemRows(
  items: readonly DecodedItem[],
  context: {messageId: string; insertedAt: Date},
): InsertRow<ItemRow>[] {
  const insertedAt = formatTimestampMicros(context.insertedAt.getTime() * 1000);
  return items.map(item => ({
    insertId: insertIdOf(item.streamId, item.ordinal),
    json: {
      stream_id: item.streamId,
      item_index: item.ordinal,
      created_at: formatTimestampMicros(item.createdAtMicros),
      payload: Buffer.from(
        item.payload.buffer,
        item.payload.byteOffset,
        item.payload.byteLength,
      ).toString('base64'),
      received_at: formatTimestampMicros(item.receivedAtMicros),
      inserted_at: insertedAt,
      message_id: context.messageId,
    },
  }));
}

/**
 * Formats microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
 * A JSON number would pass through a double and lose the last digits; the
 * string keeps all six, and BigQuery parses it as UTC.
 */
export function formatTimestampMicros(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  const wholeSeconds = new Date(seconds * 1000).toISOString().slice(0, 19);
  return `${wholeSeconds}.${String(fraction).padStart(6, '0')}Z`;
}
