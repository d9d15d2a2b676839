/**
 * The one place that decides what a failure means for a delivery. Every
 * error the function meets ends in exactly one of four outcomes:
 *
 * - transient: the event fails and Pub/Sub redelivers it. Anything not
 *   known to be permanent lands here, so an unforeseen error costs a
 *   redelivery, never a row.
 * - poison-message: the message itself can never be read; it is
 *   dead-lettered once and the event succeeds.
 * - rejected-rows: BigQuery refused some rows for their content; those are
 *   dead-lettered, the rest were stored.
 * - rejected-request: BigQuery refused a whole request for its content
 *   (400, 413); all its rows are dead-lettered.
 */
import {EnvelopeError} from '../envelope/codec.js';
import {EventShapeError} from './event-message.js';

/** Why one row of a request was refused; index is its place in the request. */
export interface RowError {
  index: number;
  reason: string;
}

export type Failure =
  | {kind: 'transient'; reason: string}
  | {kind: 'poison-message'; reason: string}
  | {
      kind: 'rejected-rows';
      /** Rows refused for their content: dead-letter them. */
      rejected: RowError[];
      /**
       * Rows BigQuery did not insert only because others were invalid
       * (reason `stopped`); sending them again alone stores them.
       */
      notInserted: number[];
    }
  | {kind: 'rejected-request'; reason: string};

/** Row error reasons that mean the row's content is at fault. */
const PERMANENT_ROW_REASONS = new Set(['invalid']);

/** Row error reason for a good row held back by a bad one. */
const STOPPED_ROW_REASON = 'stopped';

/** Error reasons that mean "later", whatever the HTTP status says. */
const TRANSIENT_REASONS = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'quotaExceeded',
  'backendError',
  'internalError',
  'timeout',
]);

/** HTTP statuses at which BigQuery refused the request's content. */
const PERMANENT_REQUEST_STATUSES = new Set([400, 413]);

/** Classifies anything thrown while handling one delivery. */
export function classifyFailure(err: unknown): Failure {
  if (err instanceof EnvelopeError || err instanceof EventShapeError) {
    return {kind: 'poison-message', reason: err.reason};
  }
  const error = asRecord(err);
  if (error === undefined) {
    return {kind: 'transient', reason: `non-error thrown: ${String(err)}`};
  }
  if (error.name === 'PartialFailureError') return classifyPartial(error);

  const status = typeof error.code === 'number' ? error.code : undefined;
  const reason =
    (status === undefined ? '' : `HTTP ${status}: `) + describe(error);
  const reasons = innerErrors(error.errors).map(inner => inner.reason);
  if (reasons.some(inner => TRANSIENT_REASONS.has(inner))) {
    return {kind: 'transient', reason};
  }
  if (status !== undefined && PERMANENT_REQUEST_STATUSES.has(status)) {
    return {kind: 'rejected-request', reason};
  }
  // 5xx, 408, 429, network and timeout errors, and also 401, 403 and 404:
  // a missing table or permission is fixed by an operator, after which the
  // redelivered batch lands; dead-lettering it would bury it instead.
  return {kind: 'transient', reason};
}

/**
 * insertAll answered 200 but listed rows it did not insert. The client
 * library wraps that answer in a PartialFailureError whose `response` is
 * BigQuery's body, `insertErrors: [{index, errors: [{reason, message}]}]`.
 */
function classifyPartial(error: Record<string, unknown>): Failure {
  const response = asRecord(error.response);
  const insertErrors = Array.isArray(response?.insertErrors)
    ? response.insertErrors
    : [];
  const rejected: RowError[] = [];
  const notInserted: number[] = [];

  for (const entry of insertErrors) {
    const rowError = asRecord(entry);
    // An index of 0 may be left out, as JSON leaves out zero values; the
    // BigQuery emulator does that.
    const index = rowError?.index ?? 0;
    const inner = innerErrors(rowError?.errors);
    if (typeof index !== 'number' || inner.length === 0) {
      return {
        kind: 'transient',
        reason: 'insertAll listed a row error without index or reason',
      };
    }
    const reasons = inner.map(e => e.reason);
    if (reasons.some(reason => PERMANENT_ROW_REASONS.has(reason))) {
      const reason = inner
        .filter(e => e.reason !== STOPPED_ROW_REASON)
        .map(e => e.text)
        .join('; ');
      rejected.push({index, reason});
    } else if (reasons.every(reason => reason === STOPPED_ROW_REASON)) {
      notInserted.push(index);
    } else {
      return {
        kind: 'transient',
        reason: `row ${index}: ${inner.map(e => e.text).join('; ')}`,
      };
    }
  }

  if (rejected.length === 0 && notInserted.length === 0) {
    return {
      kind: 'transient',
      reason: 'insertAll reported a partial failure without row errors',
    };
  }
  return {kind: 'rejected-rows', rejected, notInserted};
}

interface InnerError {
  reason: string;
  /** Reason, message and location in one sentence, for the dead letter. */
  text: string;
}

function innerErrors(value: unknown): InnerError[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap(entry => {
    const inner = asRecord(entry);
    if (inner === undefined) return [];
    const reason = typeof inner.reason === 'string' ? inner.reason : '';
    const message = typeof inner.message === 'string' ? inner.message : '';
    const location =
      typeof inner.location === 'string' && inner.location !== ''
        ? ` (at ${inner.location})`
        : '';
    return [{reason, text: `${reason || 'unknown'}: ${message}${location}`}];
  });
}

function describe(error: Record<string, unknown>): string {
  const name = typeof error.name === 'string' ? error.name : 'Error';
  const code =
    typeof error.code === 'string' && error.code !== '' ? ` ${error.code}` : '';
  const message = typeof error.message === 'string' ? error.message : '';
  return `${name}${code}: ${message}`.slice(0, 1000);
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)
    : undefined;
}
