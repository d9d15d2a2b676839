/**
 * Splits rows into insertAll requests that stay under both a row count and
 * a request size. Rows keep their order and their insert ids: a split only
 * decides which request carries a row, never what the row is, so a
 * redelivered batch deduplicates however it was split the first time.
 */
import type {InsertRow} from './rows.js';

/** Bounds of one insertAll request. */
export interface RequestLimits {
  maxRows: number;
  maxBytes: number;
}

/** One request's rows, with the size they add to the request body. */
export interface InsertRequest<T> {
  rows: InsertRow<T>[];
  /** Bytes of the rows in the request's JSON body, separators included. */
  bytes: number;
}

/**
 * Bytes of the request body around the rows:
 * `{"rows":[...],"skipInvalidRows":true,"ignoreUnknownValues":false}`,
 * rounded up generously so that a change of options cannot tip a request
 * over the limit.
 */
export const REQUEST_OVERHEAD_BYTES = 256;

/** Size of one row in the request body, the comma before it included. */
export function rowBytes(row: InsertRow<unknown>): number {
  return Buffer.byteLength(JSON.stringify(row)) + 1;
}

/**
 * Packs rows greedily, in order, into as few requests as the limits allow.
 * A row too large for any request still goes, alone: BigQuery then rejects
 * it with a reason that ends up in the dead-letter table, instead of the
 * row silently never being sent.
 */
export function splitInsertRequests<T>(
  rows: readonly InsertRow<T>[],
  limits: RequestLimits,
): InsertRequest<T>[] {
  const budget = limits.maxBytes - REQUEST_OVERHEAD_BYTES;
  const requests: InsertRequest<T>[] = [];
  let current: InsertRequest<T> = {rows: [], bytes: 0};

  for (const row of rows) {
    const size = rowBytes(row);
    const wouldExceed =
      current.rows.length >= limits.maxRows || current.bytes + size > budget;
    if (current.rows.length > 0 && wouldExceed) {
      requests.push(current);
      current = {rows: [], bytes: 0};
    }
    current.rows.push(row);
    current.bytes += size;
  }

  if (current.rows.length > 0) requests.push(current);
  return requests;
}
