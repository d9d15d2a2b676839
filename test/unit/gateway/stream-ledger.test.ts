import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {StreamLedger} from '../../../gateway/stream-ledger.js';

/** A ledger with `runs` batches of the given sizes, numbered from 0. */
function ledgerWith(...runs: number[]): StreamLedger {
  const ledger = new StreamLedger();
  runs.forEach((size, seq) => {
    for (let i = 0; i < size; i++) ledger.recordItem(seq);
  });
  return ledger;
}

describe('StreamLedger', () => {
  it('is settled with nothing handed', () => {
    const ledger = new StreamLedger();

    assert.ok(ledger.isSettled);
    assert.equal(ledger.accepted, 0);
    assert.equal(ledger.lastBatchSeq, -1);
  });

  it('counts the prefix of accepted batches, settled in order', () => {
    const ledger = ledgerWith(2, 3);

    ledger.settle(0, undefined);
    assert.equal(ledger.accepted, 2);
    assert.ok(!ledger.isSettled);
    ledger.settle(1, undefined);

    assert.equal(ledger.accepted, 5);
    assert.ok(ledger.isSettled);
  });

  it('counts a later batch only once the earlier ones are accepted', () => {
    const ledger = ledgerWith(2, 3, 1);

    ledger.settle(2, undefined);
    ledger.settle(1, undefined);
    assert.equal(ledger.accepted, 0);
    ledger.settle(0, undefined);

    assert.equal(ledger.accepted, 6);
  });

  it('stops the prefix at a failed batch but still settles', () => {
    const ledger = ledgerWith(2, 3, 1);
    const failure = new Error('timeout');

    ledger.settle(0, undefined);
    ledger.settle(1, failure);
    ledger.settle(2, undefined);

    assert.equal(ledger.accepted, 2);
    assert.ok(ledger.isSettled);
    assert.equal(ledger.publishFailure, failure);
  });

  it('keeps the first publish failure', () => {
    const ledger = ledgerWith(1, 1);
    const first = new Error('first');

    ledger.settle(1, first);
    ledger.settle(0, new Error('second'));

    assert.equal(ledger.publishFailure, first);
    assert.equal(ledger.accepted, 0);
  });

  it('ignores a settle of a batch it has no items in', () => {
    const ledger = ledgerWith(1);

    ledger.settle(7, undefined);

    assert.ok(!ledger.isSettled);
    assert.equal(ledger.handed, 1);
    assert.equal(ledger.lastBatchSeq, 0);
  });
});
