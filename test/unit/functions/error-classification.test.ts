import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {EnvelopeError} from '../../../envelope/codec.js';
import {
  classifyFailure,
  type Failure,
} from '../../../functions/error-classification.js';
import {EventShapeError} from '../../../functions/event-message.js';
import {InsertTimeoutError} from '../../../functions/bigquery-client.js';

/** An error shaped like the client library's ApiError. */
function apiError(code: number, reason: string, message = 'boom') {
  return Object.assign(new Error(message), {
    code,
    errors: [{reason, message}],
  });
}

/** Shaped like the library's PartialFailureError around insertAll's body. */
interface RowErrorBody {
  index: number;
  errors: {reason: string; message: string; location?: string}[];
}

function partialFailure(insertErrors: RowErrorBody[]) {
  return Object.assign(new Error(''), {
    name: 'PartialFailureError',
    errors: [],
    response: {kind: 'bigquery#tableDataInsertAllResponse', insertErrors},
  });
}

function systemError(code: string) {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:9050`), {
    name: 'FetchError',
    code,
    errno: code,
    type: 'system',
  });
}

const cases: {name: string; error: unknown; kind: Failure['kind']}[] = [
  {
    name: 'an envelope that cannot be decoded',
    error: new EnvelopeError('data is not a valid ingest.v1.BatchEnvelope'),
    kind: 'poison-message',
  },
  {
    name: 'an event without a Pub/Sub message',
    error: new EventShapeError('event 1 has no data.message', {}),
    kind: 'poison-message',
  },
  {name: 'HTTP 500', error: apiError(500, 'backendError'), kind: 'transient'},
  {name: 'HTTP 502', error: apiError(502, ''), kind: 'transient'},
  {name: 'HTTP 503', error: apiError(503, 'backendError'), kind: 'transient'},
  {name: 'HTTP 504', error: apiError(504, ''), kind: 'transient'},
  {name: 'HTTP 429', error: apiError(429, ''), kind: 'transient'},
  {name: 'HTTP 408', error: apiError(408, ''), kind: 'transient'},
  {
    name: 'a rate limit answered with 403',
    error: apiError(403, 'rateLimitExceeded'),
    kind: 'transient',
  },
  {
    name: 'a quota answered with 403',
    error: apiError(403, 'quotaExceeded'),
    kind: 'transient',
  },
  {
    name: 'a rate limit answered with 400',
    error: apiError(400, 'rateLimitExceeded'),
    kind: 'transient',
  },
  {
    name: 'a missing permission (403)',
    error: apiError(403, 'accessDenied'),
    kind: 'transient',
  },
  {
    name: 'a missing table (404)',
    error: apiError(404, 'notFound'),
    kind: 'transient',
  },
  {
    name: 'failed auth (401)',
    error: apiError(401, 'unauthorized'),
    kind: 'transient',
  },
  {
    name: 'a refused connection',
    error: systemError('ECONNREFUSED'),
    kind: 'transient',
  },
  {
    name: 'a reset connection',
    error: systemError('ECONNRESET'),
    kind: 'transient',
  },
  {name: 'a DNS failure', error: systemError('EAI_AGAIN'), kind: 'transient'},
  {
    name: 'a request timeout',
    error: Object.assign(new Error('network timeout at: http://x'), {
      name: 'FetchError',
      type: 'request-timeout',
    }),
    kind: 'transient',
  },
  {
    name: 'an aborted request',
    error: Object.assign(new Error('aborted'), {name: 'AbortError'}),
    kind: 'transient',
  },
  {name: 'an unknown error', error: new Error('surprise'), kind: 'transient'},
  {
    name: 'an insert past its deadline',
    error: new InsertTimeoutError('insertAll did not answer'),
    kind: 'transient',
  },
  {name: 'a thrown string', error: 'surprise', kind: 'transient'},
  {name: 'a thrown undefined', error: undefined, kind: 'transient'},
  {
    name: 'a request BigQuery refuses as invalid (400)',
    error: apiError(400, 'invalid', 'too many rows present in the request'),
    kind: 'rejected-request',
  },
  {
    name: 'a request too large (413)',
    error: apiError(413, '', 'Request Entity Too Large'),
    kind: 'rejected-request',
  },
  {
    name: 'a row with an invalid value',
    error: partialFailure([
      {index: 1, errors: [{reason: 'invalid', message: 'no such field: x.'}]},
    ]),
    kind: 'rejected-rows',
  },
  {
    name: 'a row that timed out inside BigQuery',
    error: partialFailure([
      {index: 0, errors: [{reason: 'timeout', message: 'try again'}]},
    ]),
    kind: 'transient',
  },
  {
    name: 'a row failing with an unknown reason',
    error: partialFailure([
      {index: 0, errors: [{reason: 'backendError', message: 'oops'}]},
    ]),
    kind: 'transient',
  },
  {
    name: 'a partial failure without row errors',
    error: partialFailure([]),
    kind: 'transient',
  },
  {
    name: 'a row error whose index is not a number',
    error: Object.assign(new Error(''), {
      name: 'PartialFailureError',
      response: {insertErrors: [{index: '1', errors: [{reason: 'invalid'}]}]},
    }),
    kind: 'transient',
  },
];

describe('error classification', () => {
  for (const {name, error, kind} of cases) {
    it(`classifies ${name} as ${kind}`, () => {
      assert.equal(classifyFailure(error).kind, kind);
    });
  }

  it("keeps BigQuery's reason, message and location for a rejected row", () => {
    const failure = classifyFailure(
      partialFailure([
        {
          index: 2,
          errors: [
            {
              reason: 'invalid',
              message: 'no such field: bogus.',
              location: 'bogus',
            },
          ],
        },
      ]),
    );

    assert.deepEqual(failure, {
      kind: 'rejected-rows',
      rejected: [
        {index: 2, reason: 'invalid: no such field: bogus. (at bogus)'},
      ],
      notInserted: [],
    });
  });

  it('reads a row error without index as row 0, as JSON omits zeros', () => {
    const failure = classifyFailure(
      Object.assign(new Error(''), {
        name: 'PartialFailureError',
        response: {
          insertErrors: [{errors: [{reason: 'invalid', message: 'bad'}]}],
        },
      }),
    );

    assert.deepEqual(failure, {
      kind: 'rejected-rows',
      rejected: [{index: 0, reason: 'invalid: bad'}],
      notInserted: [],
    });
  });

  it('tells rows held back by a bad one apart from the bad one', () => {
    const failure = classifyFailure(
      partialFailure([
        {index: 0, errors: [{reason: 'stopped', message: ''}]},
        {index: 1, errors: [{reason: 'invalid', message: 'bad timestamp'}]},
        {index: 2, errors: [{reason: 'stopped', message: ''}]},
      ]),
    );

    assert.deepEqual(failure, {
      kind: 'rejected-rows',
      rejected: [{index: 1, reason: 'invalid: bad timestamp'}],
      notInserted: [0, 2],
    });
  });

  it("keeps the codec's sentence as a poison message's reason", () => {
    const failure = classifyFailure(
      new EnvelopeError('attribute schema is missing'),
    );

    assert.deepEqual(failure, {
      kind: 'poison-message',
      reason: 'attribute schema is missing',
    });
  });

  it('names the status and the error in a transient reason', () => {
    const failure = classifyFailure(apiError(503, 'backendError', 'down'));

    assert.equal(failure.kind, 'transient');
    assert.match(
      failure.kind === 'transient' ? failure.reason : '',
      /HTTP 503: Error: down/,
    );
  });
});
