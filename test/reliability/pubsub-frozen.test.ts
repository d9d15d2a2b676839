import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import {status} from '@grpc/grpc-js';
import {
  attempt,
  gatewayClient,
  records,
  retryUntilOk,
  settleLedger,
  smallItem,
  startFaultStack,
  type AttemptOutcome,
  type AttemptPlan,
  type FaultStack,
} from './harness.js';

const PUBLISH_TIMEOUT_MS = 2_000;
/** Past the timeout: the last batch of a stream, the status, the sweep. */
const END_SLACK_MS = 5_000;

let fault: FaultStack;

before(async () => {
  fault = await startFaultStack({
    PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
  });
});
after(async () => {
  fault?.pubsub.resume();
  await fault?.stop();
});

describe('Pub/Sub emulator frozen with streams in flight', () => {
  it('ends every stream acknowledged or UNAVAILABLE within the publish timeout, and after retries with the same keys stores every item once', async () => {
    const warmUp = await retryUntilOk(fault.gatewayAddress, {
      key: 'warm-frozen',
      itemCount: 1,
      itemAt: smallItem,
    });
    assert.equal(warmUp.at(-1)?.code, status.OK);
    const plans: AttemptPlan[] = Array.from({length: 16}, (_, i) => ({
      key: `frozen-${i}`,
      itemCount: 300,
      itemAt: ordinal => smallItem(ordinal),
      // About 1.2 s of sending, so every stream is mid-way at the freeze.
      paceMs: 20,
      paceEvery: 5,
      deadlineMs: 60_000,
    }));
    const client = gatewayClient(fault.gatewayAddress);

    const running = plans.map(plan => attempt(client, plan));
    await sleep(300);
    const frozenAtMs = Date.now();
    fault.pubsub.pause();
    let first: AttemptOutcome[];
    try {
      first = await Promise.all(running);
    } finally {
      fault.pubsub.resume();
      client.close();
    }
    const retries: AttemptOutcome[] = [];
    for (const [i, outcome] of first.entries()) {
      const plan = plans[i];
      if (outcome.code === status.OK || plan === undefined) continue;
      retries.push(...(await retryUntilOk(fault.gatewayAddress, plan)));
    }
    const streams = records(new Map(plans.map(p => [p.key, p.itemCount])), [
      ...first,
      ...retries,
    ]);
    const ledger = await settleLedger(fault, streams);

    for (const outcome of first) {
      assert.ok(
        outcome.code === status.OK || outcome.code === status.UNAVAILABLE,
        `${outcome.key}: ${status[outcome.code]} ${outcome.details}`,
      );
      assert.ok(
        outcome.endedAtMs - frozenAtMs <= PUBLISH_TIMEOUT_MS + END_SLACK_MS,
        `${outcome.key} ended ${outcome.endedAtMs - frozenAtMs} ms after the freeze`,
      );
    }
    assert.ok(
      first.some(o => o.code === status.UNAVAILABLE),
      'the freeze failed at least one stream',
    );
    for (const stream of streams) {
      assert.equal(stream.acknowledged, stream.itemCount, stream.key);
    }
    assert.deepEqual(ledger.missing, []);
    assert.deepEqual(ledger.duplicates, []);
    assert.deepEqual(ledger.unknown, []);
    assert.equal(ledger.stored, 16 * 300);
  });
});
