import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {status} from '@grpc/grpc-js';
import {
  attempt,
  gatewayClient,
  records,
  settleLedger,
  smallItem,
  startFaultStack,
  until,
  type AttemptPlan,
  type FaultStack,
} from './harness.js';

const INSERT_FAILED = 'batch insert failed, Pub/Sub will redeliver';

let fault: FaultStack;

before(async () => {
  // A short insert deadline and no retries inside one delivery, so each
  // delivery fails fast and Pub/Sub's redelivery is what is tested.
  fault = await startFaultStack({
    INSERT_TIMEOUT_MS: '1000',
    INSERT_RETRIES: '0',
  });
});
after(async () => {
  fault?.stack.bigquery.resume();
  await fault?.stop();
});

describe('BigQuery emulator frozen during delivery', () => {
  // The emulator keeps its tables in a temporary folder it loses on a
  // restart, so a freeze (SIGSTOP, SIGCONT) is the honest outage here;
  // test/integration/functions/outage.test.ts covers the stopped emulator
  // with tables recreated.
  it('fails the deliveries, and after it thaws Pub/Sub redelivers and every acknowledged item lands once', async () => {
    const plans: AttemptPlan[] = Array.from({length: 8}, (_, i) => ({
      key: `bq-frozen-${i}`,
      itemCount: 200,
      itemAt: ordinal => smallItem(ordinal),
    }));
    const client = gatewayClient(fault.gatewayAddress);
    fault.stack.bigquery.pause();

    let outcomes;
    try {
      outcomes = await Promise.all(plans.map(p => attempt(client, p)));
      await until(
        () =>
          fault.functionLogs.filter(l => l.message === INSERT_FAILED).length >=
          2,
        'two failed deliveries',
        30_000,
      );
    } finally {
      fault.stack.bigquery.resume();
      client.close();
    }
    const streams = records(
      new Map(plans.map(p => [p.key, p.itemCount])),
      outcomes,
    );
    const ledger = await settleLedger(fault, streams);

    for (const outcome of outcomes) {
      assert.equal(outcome.code, status.OK, outcome.details);
    }
    assert.ok(
      fault.functionLogs.some(l => l.message === 'batch stored'),
      'a redelivery was stored',
    );
    assert.deepEqual(ledger.missing, []);
    assert.deepEqual(ledger.duplicates, []);
    assert.deepEqual(ledger.unknown, []);
    assert.equal(ledger.stored, 8 * 200);
  });
});
