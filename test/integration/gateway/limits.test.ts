import {before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import {Metadata, status} from '@grpc/grpc-js';
import {ItemMessage} from '../../../generated/items.js';
import {sharedEmulators, type PubSubEmulator} from '../../harness/emulators.js';
import {
  item,
  openStream,
  pullItems,
  sendStream,
  startTestGateway,
  until,
  withKey,
  type GatewayUnderTest,
  type StreamOutcome,
} from './fixture.js';

let emulator: PubSubEmulator;

before(async () => {
  ({pubsub: emulator} = await sharedEmulators());
});

/** Runs `body` against a fresh gateway with `env`, then stops it. */
async function withGateway(
  env: Record<string, string>,
  body: (under: GatewayUnderTest) => Promise<void>,
): Promise<void> {
  const under = await startTestGateway(emulator, env);
  try {
    await body(under);
  } finally {
    await under.stop();
  }
}

/** Sends raw message bytes, bypassing the client's serializer. */
function sendRaw(
  under: GatewayUnderTest,
  messages: Buffer[],
): Promise<StreamOutcome> {
  return new Promise(resolve => {
    const call = under.client.makeClientStreamRequest<Buffer, Buffer>(
      '/items.ItemHandler/Stream',
      bytes => bytes,
      bytes => bytes,
      new Metadata(),
      {},
      // The outcome is read from the status event below.
      () => {},
    );
    call.on('status', ({code, details, metadata}) => {
      const [accepted] = metadata.get('items-accepted');
      resolve({
        code,
        details,
        id: undefined,
        itemsAccepted: accepted === undefined ? undefined : Number(accepted),
      });
    });
    call.on('error', () => {});
    for (const message of messages) call.write(message);
    call.end();
  });
}

/** The ordinals pulled from the gateway's subscription, sorted. */
async function pulledOrdinals(under: GatewayUnderTest, count: number) {
  const {items} = await pullItems(under.topic, count);
  return items.map(i => i.ordinal).sort((a, b) => a - b);
}

/** Asserts the gateway still serves a stream normally. */
async function assertStillServes(under: GatewayUnderTest): Promise<void> {
  const outcome = await sendStream(under.client, [item(0)]);
  assert.equal(outcome.code, status.OK, outcome.details);
}

describe('gateway validation and limits', () => {
  const badCreatedAt: [string, string, RegExp][] = [
    ['empty', '', /is not an RFC 3339 timestamp/],
    ['garbage', 'yesterday', /is not an RFC 3339 timestamp/],
    ['without an offset', '2025-06-01T12:00:00', /with an offset/],
    ['with nanoseconds', '2025-06-01T12:00:00.123456789Z', /microsecond/],
    ['before 1960', '1959-12-31T23:59:59Z', /outside the range/],
  ];
  for (const [what, createdAt, expected] of badCreatedAt) {
    it(`ends the stream with INVALID_ARGUMENT when createdAt is ${what}, publishing the items before it`, () =>
      withGateway({}, async under => {
        const items = [
          item(0),
          item(1),
          item(2),
          {...item(3), createdAt},
          item(4),
        ];

        const outcome = await sendStream(under.client, items);

        assert.equal(outcome.code, status.INVALID_ARGUMENT);
        assert.match(outcome.details, /^item 3: createdAt /);
        assert.match(outcome.details, expected);
        assert.ok(outcome.details.includes(JSON.stringify(createdAt)));
        assert.equal(outcome.itemsAccepted, 3);
        assert.deepEqual(await pulledOrdinals(under, 3), [0, 1, 2]);
        await assertStillServes(under);
      }));
  }

  it('ends the stream with INVALID_ARGUMENT when a payload is over the limit', () =>
    withGateway({GATEWAY_MAX_PAYLOAD_BYTES: '1000'}, async under => {
      const items = [item(0, 1000), item(1, 1001)];

      const outcome = await sendStream(under.client, items);

      assert.equal(outcome.code, status.INVALID_ARGUMENT);
      assert.equal(
        outcome.details,
        'item 1: payload is 1001 bytes, over the limit ' +
          'GATEWAY_MAX_PAYLOAD_BYTES=1000',
      );
      assert.equal(outcome.itemsAccepted, 1);
      assert.deepEqual(await pulledOrdinals(under, 1), [0]);
    }));

  it('ends the stream with INVALID_ARGUMENT when a message is not a valid ItemMessage', () =>
    withGateway({}, async under => {
      const valid = Buffer.from(ItemMessage.encode(item(0)).finish());
      // Field 2 claims 100 bytes that are not there.
      const broken = Buffer.from([0x12, 0x64, 0x01]);

      const outcome = await sendRaw(under, [valid, broken]);

      assert.equal(outcome.code, status.INVALID_ARGUMENT);
      assert.match(
        outcome.details,
        /^item 1: the message is not a valid items\.ItemMessage/,
      );
      assert.equal(outcome.itemsAccepted, 1);
      await assertStillServes(under);
    }));

  it('accepts unknown fields', () =>
    withGateway({}, async under => {
      const known = Buffer.from(ItemMessage.encode(item(0)).finish());
      // Field 9 (varint 5) and field 10 (3 bytes): from a newer client.
      const extra = Buffer.from([0x48, 0x05, 0x52, 0x03, 0x61, 0x62, 0x63]);

      const outcome = await sendRaw(under, [Buffer.concat([known, extra])]);

      assert.equal(outcome.code, status.OK, outcome.details);
      assert.equal(outcome.itemsAccepted, 1);
    }));

  it('ends the stream with RESOURCE_EXHAUSTED from grpc-js when a message is over the maximum size, still publishing what came before', () =>
    withGateway(
      {GATEWAY_MAX_PAYLOAD_BYTES: '1024', GATEWAY_MAX_MESSAGE_BYTES: '2048'},
      async under => {
        const items = [item(0), item(1), item(2, 4096)];

        const outcome = await sendStream(under.client, items);

        assert.equal(outcome.code, status.RESOURCE_EXHAUSTED);
        assert.match(
          outcome.details,
          /Received message larger than max \(\d+ vs\.? 2048\)/,
        );
        assert.deepEqual(await pulledOrdinals(under, 2), [0, 1]);
        await assertStillServes(under);
      },
    ));

  it('refuses a stream past the concurrent stream limit with RESOURCE_EXHAUSTED and serves the rest', () =>
    withGateway({GATEWAY_MAX_STREAMS: '2'}, async under => {
      const open = [openStream(under.client), openStream(under.client)];
      for (const stream of open) await stream.write([item(0)]);
      await until(
        () => under.gateway.registry.activeCount === 2,
        'two streams are active',
      );

      const refused = await sendStream(under.client, [item(0)]);
      for (const stream of open) stream.call.end();
      const served = await Promise.all(open.map(s => s.outcome));

      assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
      assert.equal(
        refused.details,
        'the gateway instance already serves GATEWAY_MAX_STREAMS=2 streams; ' +
          'retry later',
      );
      assert.equal(refused.itemsAccepted, 0);
      assert.deepEqual(
        served.map(s => [s.code, s.itemsAccepted]),
        [
          [status.OK, 1],
          [status.OK, 1],
        ],
      );
    }));

  it('ends an idle stream with DEADLINE_EXCEEDED naming the idle timeout', () =>
    withGateway({GATEWAY_STREAM_IDLE_TIMEOUT_MS: '300'}, async under => {
      const stream = openStream(under.client);
      await stream.write([item(0), item(1)]);

      const outcome = await stream.outcome;

      assert.equal(outcome.code, status.DEADLINE_EXCEEDED);
      assert.equal(
        outcome.details,
        'the stream sent nothing for GATEWAY_STREAM_IDLE_TIMEOUT_MS=300 ms',
      );
      assert.equal(outcome.itemsAccepted, 2);
      assert.deepEqual(await pulledOrdinals(under, 2), [0, 1]);
    }));

  it('ends a stream still sending past the maximum duration with DEADLINE_EXCEEDED', () =>
    withGateway({GATEWAY_MAX_STREAM_DURATION_MS: '1000'}, async under => {
      const stream = openStream(under.client);
      let ended = false;
      void stream.outcome.then(() => (ended = true));
      for (let i = 0; !ended && i < 100; i++) {
        await stream.write([item(i)]);
        await sleep(50);
      }

      const outcome = await stream.outcome;

      assert.equal(outcome.code, status.DEADLINE_EXCEEDED);
      assert.match(
        outcome.details,
        /^the stream is still sending after GATEWAY_MAX_STREAM_DURATION_MS=1000 ms/,
      );
      const accepted = outcome.itemsAccepted ?? assert.fail('no trailer');
      assert.ok(accepted > 0);
      assert.deepEqual(
        await pulledOrdinals(under, accepted),
        Array.from({length: accepted}, (_, i) => i),
      );
    }));

  it('refuses a malformed idempotency key with INVALID_ARGUMENT', () =>
    withGateway({IDEMPOTENCY_KEY_MAX_LENGTH: '16'}, async under => {
      const outcome = await sendStream(under.client, [item(0)], {
        metadata: withKey('k'.repeat(17)),
      });

      assert.equal(outcome.code, status.INVALID_ARGUMENT);
      assert.match(
        outcome.details,
        /17 characters, over the limit IDEMPOTENCY_KEY_MAX_LENGTH=16/,
      );
      assert.equal(outcome.itemsAccepted, 0);
      await assertStillServes(under);
    }));

  it('ends a stream with UNAVAILABLE when Pub/Sub refuses its batch', () =>
    withGateway({PUBLISH_TIMEOUT_MS: '2000'}, async under => {
      await under.topic.admin.topic(under.topic.name).delete();

      const outcome = await sendStream(under.client, [item(0), item(1)]);

      assert.equal(outcome.code, status.UNAVAILABLE);
      assert.match(
        outcome.details,
        /^Pub\/Sub did not accept a batch holding items of this stream within PUBLISH_TIMEOUT_MS=2000 ms \(.*NOT_FOUND/,
      );
      assert.equal(outcome.itemsAccepted, 0);
    }));
});
