/**
 * Streams rows into one table, request by request, and reports the rows
 * BigQuery refused for their content. Any other failure throws
 * TransientInsertError, so the caller fails the event: rows already sent
 * are sent again on redelivery under the same insert ids, which BigQuery
 * and the dedup view both absorb.
 */
import type {InsertRequestFn} from './bigquery-client.js';
import {classifyFailure} from './error-classification.js';
import {splitInsertRequests, type RequestLimits} from './insert-requests.js';
import type {InsertRow} from './rows.js';

/** A row BigQuery will not store, with its reason. */
export interface RejectedRow<T> {
  row: InsertRow<T>;
  reason: string;
}

/** What one call stored and refused. */
export interface InsertResult<T> {
  rejected: RejectedRow<T>[];
  requests: number;
}

/** Inserting failed in a way a later attempt may not; the event must fail. */
export class TransientInsertError extends Error {
  override name = 'TransientInsertError';
  constructor(
    readonly reason: string,
    options?: {cause?: unknown},
  ) {
    super(reason, options);
  }
}

/**
 * Rows held back as `stopped` are sent again at most this many times. One
 * is enough in theory (the bad rows are gone from the second request); the
 * bound keeps a misbehaving service from looping us.
 */
const STOPPED_RESENDS = 2;

/** Inserts `rows` in requests within `limits`, in order. */
export async function insertRows<T>(
  insert: InsertRequestFn,
  rows: readonly InsertRow<T>[],
  limits: RequestLimits,
): Promise<InsertResult<T>> {
  const rejected: RejectedRow<T>[] = [];
  let requests = 0;

  for (const request of splitInsertRequests(rows, limits)) {
    let pending = request.rows;
    for (let round = 0; pending.length > 0; round++) {
      requests++;
      pending = await insertOnce(insert, pending, rejected);
      if (pending.length > 0 && round >= STOPPED_RESENDS) {
        throw new TransientInsertError(
          `${pending.length} rows were still held back as stopped after ` +
            `${round + 1} attempts`,
        );
      }
    }
  }
  return {rejected, requests};
}

/** One request; returns the rows to send again. */
async function insertOnce<T>(
  insert: InsertRequestFn,
  rows: InsertRow<T>[],
  rejected: RejectedRow<T>[],
): Promise<InsertRow<T>[]> {
  try {
    await insert(rows);
    return [];
  } catch (err) {
    const failure = classifyFailure(err);
    switch (failure.kind) {
      case 'rejected-request':
        for (const row of rows) rejected.push({row, reason: failure.reason});
        return [];
      case 'rejected-rows':
        for (const {index, reason} of failure.rejected) {
          rejected.push({row: rowAt(rows, index, err), reason});
        }
        return failure.notInserted.map(index => rowAt(rows, index, err));
      case 'transient':
      case 'poison-message':
        throw new TransientInsertError(failure.reason, {cause: err});
    }
  }
}

function rowAt<T>(rows: InsertRow<T>[], index: number, cause: unknown) {
  const row = rows[index];
  if (row === undefined) {
    throw new TransientInsertError(
      `insertAll named row ${index} of a ${rows.length}-row request`,
      {cause},
    );
  }
  return row;
}
