/**
 * The one mapping from a failure to the gRPC status a stream ends with.
 * Every failure the gateway knows is a StreamFailure carrying its code and
 * a details sentence naming the field or limit and the offending value;
 * anything else is a bug and becomes INTERNAL, never UNKNOWN.
 */
import {Metadata, status, type StatusObject} from '@grpc/grpc-js';

/**
 * Trailer of every reply: how many items of the stream are durably in
 * Pub/Sub, counted as a prefix. `items-accepted: n` means items 0 to n-1
 * are all accepted, so a client may resend from item n.
 */
export const ITEMS_ACCEPTED_TRAILER = 'items-accepted';

/** A failure that ends a stream with a known status. */
export abstract class StreamFailure extends Error {
  abstract readonly code: status;
}

/** An item was refused; the stream ends at it. */
export class InvalidItemError extends StreamFailure {
  override name = 'InvalidItemError';
  readonly code = status.INVALID_ARGUMENT;
  constructor(
    readonly ordinal: number,
    readonly field: 'createdAt' | 'payload' | 'message',
    details: string,
  ) {
    super(details);
  }
}

/** The idempotency-key metadata cannot serve as a stream id. */
export class InvalidIdempotencyKeyError extends StreamFailure {
  override name = 'InvalidIdempotencyKeyError';
  readonly code = status.INVALID_ARGUMENT;
}

/** A per-instance limit refused the stream (too many streams). */
export class LimitExceededError extends StreamFailure {
  override name = 'LimitExceededError';
  readonly code = status.RESOURCE_EXHAUSTED;
}

/** The stream was idle too long or ran past its maximum duration. */
export class StreamTimeoutError extends StreamFailure {
  override name = 'StreamTimeoutError';
  readonly code = status.DEADLINE_EXCEEDED;
}

/** A batch holding items of the stream was not accepted by Pub/Sub. */
export class PublishFailedError extends StreamFailure {
  override name = 'PublishFailedError';
  readonly code = status.UNAVAILABLE;
}

/** The instance is shutting down; the client should retry elsewhere. */
export class ShuttingDownError extends StreamFailure {
  override name = 'ShuttingDownError';
  readonly code = status.UNAVAILABLE;
}

/** A bug in the gateway; INTERNAL, with the message, never UNKNOWN. */
export class InternalFailure extends StreamFailure {
  override name = 'InternalFailure';
  readonly code = status.INTERNAL;
  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`the gateway failed unexpectedly: ${reason}`, {cause});
  }
}

/**
 * The status a stream ends with for `failure`, with the items-accepted
 * trailer. A thrown value that is not a StreamFailure is a gateway bug: it
 * becomes INTERNAL with its message, so it is visible rather than UNKNOWN.
 */
export function toStatus(
  failure: unknown,
  itemsAccepted: number,
): StatusObject {
  const metadata = acceptedTrailer(itemsAccepted);
  if (failure instanceof StreamFailure) {
    return {code: failure.code, details: failure.message, metadata};
  }
  const internal = new InternalFailure(failure);
  return {code: internal.code, details: internal.message, metadata};
}

/** Trailing metadata holding the items-accepted count. */
export function acceptedTrailer(itemsAccepted: number): Metadata {
  const metadata = new Metadata();
  metadata.set(ITEMS_ACCEPTED_TRAILER, String(itemsAccepted));
  return metadata;
}

/** The status name for logs, e.g. "INVALID_ARGUMENT". */
export function statusName(code: status): string {
  return status[code] ?? `CODE_${code}`;
}
