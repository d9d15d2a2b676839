import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import {status} from '@grpc/grpc-js';
import {ITEM_OVERHEAD_BYTES} from '../../../gateway/settings.js';
import {
  startPubSubEmulator,
  type PubSubEmulator,
} from '../../harness/emulators.js';
import {
  item,
  openStream,
  sendStream,
  startTestGateway,
  until,
} from './fixture.js';

// These tests freeze the emulator, so they run their own.
let emulator: PubSubEmulator;

before(async () => {
  emulator = await startPubSubEmulator();
});
after(() => emulator.stop());

const KiB = 1024;
const MiB = 1024 * KiB;

describe('gateway with Pub/Sub frozen', () => {
  it('stops reading at the in-flight cap while clients keep sending, and completes every stream after Pub/Sub thaws', async () => {
    const capBytes = 2 * MiB;
    const payloadBytes = 16 * KiB;
    const streams = 4;
    const itemsPerStream = 400;
    const under = await startTestGateway(emulator, {
      GATEWAY_MAX_INFLIGHT_BYTES: String(capBytes),
      BATCH_MAX_BYTES: String(256 * KiB),
      GATEWAY_MAX_PAYLOAD_BYTES: String(64 * KiB),
      PUBLISH_TIMEOUT_MS: '60000',
    });
    try {
      const warmUp = await sendStream(under.client, [item(0)]);
      assert.equal(warmUp.code, status.OK, warmUp.details);
      emulator.pause();

      let written = 0;
      const open = Array.from({length: streams}, () =>
        openStream(under.client),
      );
      const writing = open.map(async stream => {
        for (let i = 0; i < itemsPerStream; i++) {
          await stream.write([item(i, payloadBytes)]);
          written++;
        }
        stream.call.end();
      });
      await until(() => under.gateway.flowControl.isBlocked, 'the cap is hit');
      // Give clients time to push on; the gateway must not read further.
      await sleep(1_500);
      const heldWhileFrozen = under.gateway.flowControl.peak;
      const writtenWhileFrozen = written;

      emulator.resume();
      await Promise.all(writing);
      const outcomes = await Promise.all(open.map(s => s.outcome));

      const largestItem = payloadBytes + ITEM_OVERHEAD_BYTES;
      assert.ok(
        heldWhileFrozen <= capBytes + largestItem,
        `held ${heldWhileFrozen} bytes with a cap of ${capBytes}`,
      );
      assert.ok(
        writtenWhileFrozen < streams * itemsPerStream,
        'clients were held back while Pub/Sub was frozen',
      );
      for (const outcome of outcomes) {
        assert.equal(outcome.code, status.OK, outcome.details);
        assert.equal(outcome.itemsAccepted, itemsPerStream);
      }
      const acceptedPerStream = new Map<string, Set<number>>();
      for (const i of under.batches.flat()) {
        const ordinals = acceptedPerStream.get(i.streamId) ?? new Set();
        acceptedPerStream.set(i.streamId, ordinals.add(i.ordinal));
      }
      for (const outcome of outcomes) {
        assert.equal(
          acceptedPerStream.get(outcome.id ?? '')?.size,
          itemsPerStream,
        );
      }
      assert.equal(under.gateway.flowControl.bytes, 0);
    } finally {
      emulator.resume();
      await under.stop();
    }
  });

  it('ends a stream with UNAVAILABLE past the publish timeout, and serves again once Pub/Sub thaws', async () => {
    const under = await startTestGateway(emulator, {
      PUBLISH_TIMEOUT_MS: '1500',
    });
    try {
      const warmUp = await sendStream(under.client, [item(0)]);
      assert.equal(warmUp.code, status.OK, warmUp.details);
      emulator.pause();

      const frozen = await sendStream(under.client, [
        item(0),
        item(1),
        item(2),
      ]);
      emulator.resume();
      const thawed = await sendStream(under.client, [item(0)]);

      assert.equal(frozen.code, status.UNAVAILABLE);
      assert.match(
        frozen.details,
        /^Pub\/Sub did not accept a batch holding items of this stream within PUBLISH_TIMEOUT_MS=1500 ms/,
      );
      assert.equal(frozen.itemsAccepted, 0);
      assert.equal(thawed.code, status.OK, thawed.details);
    } finally {
      emulator.resume();
      await under.stop();
    }
  });
});
