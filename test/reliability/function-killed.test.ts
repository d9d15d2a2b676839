import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import {status} from '@grpc/grpc-js';
import {
  attempt,
  gatewayClient,
  records,
  settleLedger,
  smallItem,
  startFaultStack,
  type AttemptPlan,
  type FaultStack,
} from './harness.js';

let fault: FaultStack;

before(async () => {
  fault = await startFaultStack();
});
after(async () => {
  fault?.stack.bigquery.resume();
  await fault?.stop();
});

describe('the function killed mid-insert', () => {
  it('is redelivered to a restarted function, and every item is once in the dedup view', async () => {
    const plans: AttemptPlan[] = Array.from({length: 8}, (_, i) => ({
      key: `fn-killed-${i}`,
      itemCount: 250,
      itemAt: ordinal => smallItem(ordinal),
    }));
    const client = gatewayClient(fault.gatewayAddress);
    // Frozen, BigQuery holds every insert open: the function is certainly
    // inside one when it is killed.
    fault.stack.bigquery.pause();
    const killed = fault.function;

    let outcomes;
    try {
      outcomes = await Promise.all(plans.map(p => attempt(client, p)));
      // Push delivery takes milliseconds; this only lets it happen.
      await sleep(1_500);
      killed.signal('SIGKILL');
      await killed.exited;
    } finally {
      fault.stack.bigquery.resume();
      client.close();
    }
    const storedBefore = fault.functionLogs.filter(
      l => l.message === 'batch stored',
    ).length;
    await fault.restartFunction();
    const streams = records(
      new Map(plans.map(p => [p.key, p.itemCount])),
      outcomes,
    );
    const ledger = await settleLedger(fault, streams);

    for (const outcome of outcomes) {
      assert.equal(outcome.code, status.OK, outcome.details);
    }
    assert.equal(storedBefore, 0, 'nothing was stored before the kill');
    assert.ok(
      fault.functionLogs.some(l => l.message === 'batch stored'),
      'the restarted function stored redeliveries',
    );
    assert.deepEqual(ledger.missing, []);
    assert.deepEqual(ledger.duplicates, []);
    assert.deepEqual(ledger.unknown, []);
    assert.equal(ledger.stored, 8 * 250);
  });
});
