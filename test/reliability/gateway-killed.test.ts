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

const SHUTDOWN_GRACE_MS = 8_000;

let fault: FaultStack;

before(async () => {
  fault = await startFaultStack({
    GATEWAY_SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
  });
});
after(() => fault?.stop());

/** Streams that send their items at once and end. */
function quick(prefix: string, count: number): AttemptPlan[] {
  return Array.from({length: count}, (_, i) => ({
    key: `${prefix}-quick-${i}`,
    itemCount: 50,
    itemAt: ordinal => smallItem(ordinal),
    deadlineMs: 60_000,
  }));
}

/** Streams that trickle an item every 20 ms for 10 s: open at the signal. */
function trickling(prefix: string, count: number): AttemptPlan[] {
  return Array.from({length: count}, (_, i) => ({
    key: `${prefix}-trickle-${i}`,
    itemCount: 500,
    itemAt: ordinal => smallItem(ordinal),
    paceMs: 20,
    paceEvery: 1,
    deadlineMs: 60_000,
  }));
}

/** Resends every failed stream under its key to the gateway running now. */
async function resendFailed(
  sent: AttemptPlan[],
  outcomes: AttemptOutcome[],
): Promise<AttemptOutcome[]> {
  const retries: AttemptOutcome[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    const plan = sent[i];
    if (outcome.code === status.OK || plan === undefined) continue;
    retries.push(...(await retryUntilOk(fault.gatewayAddress, plan)));
  }
  return retries;
}

async function warmUp(): Promise<void> {
  const outcomes = await retryUntilOk(fault.gatewayAddress, {
    key: 'warm-gateway',
    itemCount: 1,
    itemAt: smallItem,
  });
  assert.equal(outcomes.at(-1)?.code, status.OK);
}

describe('the gateway stopped with streams open', () => {
  it('on SIGTERM with 64 active streams exits 0 within the grace period, each stream replied OK or UNAVAILABLE, nothing acknowledged lost', async () => {
    await warmUp();
    const finished = quick('sigterm', 32);
    const open = trickling('sigterm', 32);
    const sent = [...finished, ...open];
    const client = gatewayClient(fault.gatewayAddress);
    const gateway = fault.gateway;
    // Frozen, Pub/Sub holds the finished streams' replies back, so at the
    // signal all 64 are active: 32 awaiting their batches, 32 sending.
    fault.pubsub.pause();

    let exit: {code: number | null; afterMs: number} | undefined;
    const running = sent.map(p => attempt(client, p));
    try {
      await sleep(1_000);
      const signalledAtMs = Date.now();
      gateway.signal('SIGTERM');
      await sleep(1_000);
      fault.pubsub.resume();
      exit = await Promise.race([
        gateway.exited.then(code => ({
          code,
          afterMs: Date.now() - signalledAtMs,
        })),
        sleep(SHUTDOWN_GRACE_MS + 2_000).then(() => undefined),
      ]);
    } finally {
      fault.pubsub.resume();
    }
    const outcomes = await Promise.all(running);
    client.close();
    await fault.restartGateway();
    const retries = await resendFailed(sent, outcomes);
    const ledger = await settleLedger(
      fault,
      records(new Map(sent.map(p => [p.key, p.itemCount])), [
        ...outcomes,
        ...retries,
      ]),
    );

    assert.ok(exit !== undefined, 'the gateway exited by itself');
    assert.equal(exit.code, 0, gateway.recentOutput.join('\n'));
    assert.ok(
      exit.afterMs <= SHUTDOWN_GRACE_MS,
      `exited ${exit.afterMs} ms after SIGTERM`,
    );
    for (const outcome of outcomes) {
      assert.ok(
        outcome.code === status.OK || outcome.code === status.UNAVAILABLE,
        `${outcome.key}: ${status[outcome.code]} ${outcome.details}`,
      );
      if (outcome.code === status.UNAVAILABLE) {
        assert.notEqual(outcome.itemsAccepted, undefined, outcome.details);
      }
    }
    assert.deepEqual(
      outcomes.slice(0, 32).map(o => [o.code, o.itemsAccepted]),
      finished.map(() => [status.OK, 50]),
    );
    for (const outcome of outcomes.slice(32)) {
      assert.equal(outcome.code, status.UNAVAILABLE, outcome.details);
      assert.match(outcome.details, /shutting down/);
    }
    assert.deepEqual(ledger.missing, []);
    assert.deepEqual(ledger.duplicates, []);
    assert.deepEqual(ledger.unknown, []);
    assert.equal(ledger.stored, 32 * 50 + 32 * 500);
  });

  it('on SIGKILL fails the open streams, and every acknowledged item is stored once', async () => {
    const finished = quick('sigkill', 16);
    const open = trickling('sigkill', 16);
    const sent = [...finished, ...open];
    const client = gatewayClient(fault.gatewayAddress);
    const gateway = fault.gateway;

    const trickled = open.map(p => attempt(client, p));
    const replied = await Promise.all(finished.map(p => attempt(client, p)));
    gateway.signal('SIGKILL');
    await gateway.exited;
    const outcomes = [...replied, ...(await Promise.all(trickled))];
    client.close();
    const acknowledgedBeforeRestart = records(
      new Map(sent.map(p => [p.key, p.itemCount])),
      outcomes,
    );
    const beforeRestart = await settleLedger(fault, acknowledgedBeforeRestart);
    await fault.restartGateway();
    const retries = await resendFailed(sent, outcomes);
    const ledger = await settleLedger(
      fault,
      records(new Map(sent.map(p => [p.key, p.itemCount])), [
        ...outcomes,
        ...retries,
      ]),
    );

    for (const outcome of replied) {
      assert.equal(outcome.code, status.OK, outcome.details);
    }
    for (const outcome of outcomes.slice(16)) {
      assert.notEqual(outcome.code, status.OK, outcome.key);
    }
    assert.deepEqual(beforeRestart.missing, []);
    assert.deepEqual(beforeRestart.duplicates, []);
    assert.deepEqual(ledger.missing, []);
    assert.deepEqual(ledger.duplicates, []);
    assert.deepEqual(ledger.unknown, []);
    assert.equal(ledger.stored, 16 * 50 + 16 * 500);
  });
});
