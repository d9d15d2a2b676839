import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {status} from '@grpc/grpc-js';
import {
  InternalFailure,
  InvalidIdempotencyKeyError,
  InvalidItemError,
  ITEMS_ACCEPTED_TRAILER,
  LimitExceededError,
  PublishFailedError,
  ShuttingDownError,
  StreamTimeoutError,
  toStatus,
} from '../../../gateway/status.js';

describe('toStatus', () => {
  const cases: [string, Error, status][] = [
    [
      'an invalid item',
      new InvalidItemError(3, 'payload', 'd'),
      status.INVALID_ARGUMENT,
    ],
    [
      'a bad idempotency key',
      new InvalidIdempotencyKeyError('d'),
      status.INVALID_ARGUMENT,
    ],
    ['a limit', new LimitExceededError('d'), status.RESOURCE_EXHAUSTED],
    ['a timeout', new StreamTimeoutError('d'), status.DEADLINE_EXCEEDED],
    ['a failed publish', new PublishFailedError('d'), status.UNAVAILABLE],
    ['a shutdown', new ShuttingDownError('d'), status.UNAVAILABLE],
    ['a bug', new InternalFailure(new Error('oops')), status.INTERNAL],
  ];
  for (const [what, failure, code] of cases) {
    it(`maps ${what} to ${status[code]} with the items-accepted trailer`, () => {
      const result = toStatus(failure, 42);

      assert.equal(result.code, code);
      assert.equal(result.details, failure.message);
      assert.deepEqual(result.metadata.get(ITEMS_ACCEPTED_TRAILER), ['42']);
    });
  }

  it('maps anything unknown to INTERNAL with its message, never UNKNOWN', () => {
    for (const thrown of [new TypeError('x is undefined'), 'a string', 7]) {
      const result = toStatus(thrown, 0);

      assert.equal(result.code, status.INTERNAL);
      assert.match(result.details, /^the gateway failed unexpectedly: /);
      assert.ok(
        result.details.includes(String(thrown).replace(/^TypeError: /, '')),
      );
    }
  });
});
