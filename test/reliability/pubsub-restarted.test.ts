import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import {status} from '@grpc/grpc-js';
import {
  attempt,
  gatewayClient,
  records,
  retryUntilOk,
  RETRYABLE,
  settleLedger,
  smallItem,
  startFaultStack,
  type AttemptOutcome,
  type AttemptPlan,
  type FaultStack,
} from './harness.js';

const PUBLISH_TIMEOUT_MS = 2_000;
const END_SLACK_MS = 5_000;

let fault: FaultStack;

before(async () => {
  fault = await startFaultStack({
    PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
  });
});
after(() => fault?.stop());

function plan(key: string, itemCount: number): AttemptPlan {
  return {
    key,
    itemCount,
    itemAt: ordinal => smallItem(ordinal),
    paceMs: 20,
    paceEvery: 5,
    deadlineMs: 60_000,
  };
}

describe('Pub/Sub emulator killed and restarted on the same port', () => {
  it('fails streams with a retryable status rather than hang, and the same gateway serves again once Pub/Sub is back', async () => {
    const warmUp = await retryUntilOk(fault.gatewayAddress, {
      ...plan('warm-restart', 1),
      paceMs: undefined,
    });
    assert.equal(warmUp.at(-1)?.code, status.OK);
    const gatewayPid = fault.gateway.child.pid;
    const plans = Array.from({length: 16}, (_, i) => plan(`restart-${i}`, 300));
    const client = gatewayClient(fault.gatewayAddress);

    const running = plans.map(p => attempt(client, p));
    await sleep(300);
    const killedAtMs = Date.now();
    await fault.killPubSub();
    const first = await Promise.all(running);
    const whileDown = await attempt(client, {
      ...plan('restart-while-down', 3),
      paceMs: undefined,
    });
    client.close();
    await fault.startPubSub();
    const afterRestart = await retryUntilOk(
      fault.gatewayAddress,
      {...plan('restart-after', 5), paceMs: undefined},
      40,
    );
    // The emulator lost with its memory what it had accepted but not yet
    // pushed; Pub/Sub itself keeps an accepted message. A client resending
    // everything under the same keys is the honest way to compare.
    const resent: AttemptOutcome[] = [];
    for (const p of plans)
      resent.push(...(await retryUntilOk(fault.gatewayAddress, p)));
    const streams = records(
      new Map(
        [...plans, plan('restart-after', 5)].map(p => [p.key, p.itemCount]),
      ),
      [...first, ...afterRestart, ...resent],
    );
    const ledger = await settleLedger(fault, streams);

    for (const outcome of [...first, whileDown]) {
      assert.ok(
        outcome.code === status.OK || RETRYABLE.has(outcome.code),
        `${outcome.key}: ${status[outcome.code]} ${outcome.details}`,
      );
      assert.ok(
        outcome.endedAtMs - killedAtMs <= 2 * PUBLISH_TIMEOUT_MS + END_SLACK_MS,
        `${outcome.key} ended ${outcome.endedAtMs - killedAtMs} ms after the kill`,
      );
    }
    assert.equal(whileDown.code, status.UNAVAILABLE, whileDown.details);
    assert.equal(afterRestart.at(-1)?.code, status.OK);
    assert.equal(fault.gateway.child.pid, gatewayPid);
    assert.equal(fault.gateway.child.exitCode, null);
    for (const stream of streams) {
      assert.equal(stream.acknowledged, stream.itemCount, stream.key);
    }
    assert.deepEqual(ledger.missing, []);
    assert.deepEqual(ledger.duplicates, []);
    assert.deepEqual(ledger.unknown, []);
  });
});
