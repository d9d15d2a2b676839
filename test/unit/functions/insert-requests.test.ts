import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  REQUEST_OVERHEAD_BYTES,
  rowBytes,
  splitInsertRequests,
} from '../../../functions/insert-requests.js';

function row(id: number, payloadBytes = 10) {
  return {insertId: `s:${id}`, json: {payload: 'x'.repeat(payloadBytes)}};
}

describe('insert request splitting', () => {
  it('splits by row count', () => {
    const rows = Array.from({length: 1201}, (_, i) => row(i));

    const requests = splitInsertRequests(rows, {
      maxRows: 500,
      maxBytes: 10_000_000,
    });

    assert.deepEqual(
      requests.map(r => r.rows.length),
      [500, 500, 201],
    );
  });

  it('splits by request bytes', () => {
    const rows = Array.from({length: 10}, (_, i) => row(i, 1000));
    const size = rowBytes(rows[0] ?? row(0));
    const maxBytes = REQUEST_OVERHEAD_BYTES + size * 3;

    const requests = splitInsertRequests(rows, {maxRows: 500, maxBytes});

    assert.deepEqual(
      requests.map(r => r.rows.length),
      [3, 3, 3, 1],
    );
    for (const request of requests) {
      assert.ok(request.bytes + REQUEST_OVERHEAD_BYTES <= maxBytes);
    }
  });

  it('sends a row larger than any request alone rather than dropping it', () => {
    const rows = [row(0), row(1, 5000), row(2)];

    const requests = splitInsertRequests(rows, {maxRows: 500, maxBytes: 1000});

    assert.deepEqual(
      requests.map(r => r.rows.map(x => x.insertId)),
      [['s:0'], ['s:1'], ['s:2']],
    );
  });

  it('keeps every row, in order, with its insert id, within both limits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(2000), {maxLength: 300}),
        fc.integer({min: 1, max: 50}),
        fc.integer({min: 500, max: 20_000}),
        (sizes, maxRows, maxBytes) => {
          const rows = sizes.map((size, i) => row(i, size));

          const requests = splitInsertRequests(rows, {maxRows, maxBytes});

          assert.deepEqual(
            requests.flatMap(r => r.rows),
            rows,
          );
          for (const request of requests) {
            assert.ok(request.rows.length >= 1);
            assert.ok(request.rows.length <= maxRows);
            assert.ok(
              request.rows.length === 1 ||
                request.bytes + REQUEST_OVERHEAD_BYTES <= maxBytes,
            );
          }
        },
      ),
    );
  });

  it('counts a row as its JSON in the request body', () => {
    const r = {insertId: 'é:1', json: {payload: '/wD+'}};

    assert.equal(rowBytes(r), Buffer.byteLength(JSON.stringify(r)) + 1);
  });
});
