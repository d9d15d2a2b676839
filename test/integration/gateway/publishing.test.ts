import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {status} from '@grpc/grpc-js';
import {ITEM_OVERHEAD_BYTES} from '../../../gateway/settings.js';
import {sharedEmulators, type PubSubEmulator} from '../../harness/emulators.js';
import {
  describeItems,
  item,
  ITEM_CREATED_AT_MICROS,
  openStream,
  pullItems,
  sendStream,
  startTestGateway,
  until,
  withKey,
  type GatewayUnderTest,
} from './fixture.js';
import {HealthProbe, reflectedServices} from './probe-clients.js';

let emulator: PubSubEmulator;

before(async () => {
  ({pubsub: emulator} = await sharedEmulators());
});

describe('gateway publishing to the Pub/Sub emulator', () => {
  it('turns a stream of N items into messages holding exactly those items', async () => {
    const under = await startTestGateway(emulator, {BATCH_MAX_ITEMS: '100'});
    try {
      const items = Array.from({length: 1_000}, (_, i) =>
        item(i, 1 + (i % 50)),
      );

      const outcome = await sendStream(under.client, items);
      const pulled = await pullItems(under.topic, items.length);

      assert.equal(outcome.code, status.OK, outcome.details);
      assert.equal(outcome.itemsAccepted, 1_000);
      const id = outcome.id ?? assert.fail('no stream id');
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(
        describeItems(pulled.items),
        describeItems(
          items.map((message, ordinal) => ({
            streamId: id,
            ordinal,
            createdAtMicros: ITEM_CREATED_AT_MICROS,
            payload: message.payload,
          })),
        ),
      );
      assert.ok(pulled.messages >= 10 && pulled.messages < 1_000);
    } finally {
      await under.stop();
    }
  });

  it('uses the idempotency key as the stream id and accepts an empty stream', async () => {
    const under = await startTestGateway(emulator);
    try {
      const keyed = await sendStream(under.client, [item(0)], {
        metadata: withKey('producer-7/2025-06-01/batch-3'),
      });
      const empty = await sendStream(under.client, []);
      const pulled = await pullItems(under.topic, 1);

      assert.equal(keyed.id, 'producer-7/2025-06-01/batch-3');
      assert.equal(empty.code, status.OK);
      assert.equal(empty.itemsAccepted, 0);
      assert.deepEqual(
        pulled.items.map(i => `${i.streamId}/${i.ordinal}`),
        ['producer-7/2025-06-01/batch-3/0'],
      );
    } finally {
      await under.stop();
    }
  });

  it('shares batches between concurrent streams and replies to each only after its batches are accepted', async () => {
    // A long delay: batches close only because streams end.
    const under = await startTestGateway(emulator, {
      BATCH_MAX_DELAY_MS: '10000',
      BATCH_MAX_ITEMS: '50',
    });
    try {
      const streams = Array.from({length: 4}, () => openStream(under.client));
      for (const [index, stream] of streams.entries()) {
        await stream.write(
          Array.from({length: 10 + index * 7}, (_, i) => item(i)),
        );
      }
      await until(
        () => under.gateway.flowControl.bytes > 0,
        'the gateway received items',
      );

      const replies = streams.map(async (stream, index) => {
        stream.call.end();
        const outcome = await stream.outcome;
        const acceptedAtReply = under.batches
          .flat()
          .filter(i => i.streamId === outcome.id).length;
        return {index, outcome, acceptedAtReply};
      });
      const ended = await Promise.all(replies);
      const pulled = await pullItems(under.topic, 82);

      for (const {index, outcome, acceptedAtReply} of ended) {
        assert.equal(outcome.code, status.OK, outcome.details);
        assert.equal(outcome.itemsAccepted, 10 + index * 7);
        assert.equal(acceptedAtReply, 10 + index * 7);
      }
      const widest = Math.max(
        ...under.batches.map(batch => new Set(batch.map(i => i.streamId)).size),
      );
      assert.equal(widest, 4, 'one batch holds items of all four streams');
      assert.equal(pulled.items.length, 82);
    } finally {
      await under.stop();
    }
  });

  it('still publishes the items of a stream the client cancels', async () => {
    const under = await startTestGateway(emulator, {
      BATCH_MAX_DELAY_MS: '10000',
    });
    try {
      const stream = openStream(under.client);
      await stream.write(Array.from({length: 25}, (_, i) => item(i)));
      await until(
        () =>
          under.gateway.flowControl.bytes === 25 * (16 + ITEM_OVERHEAD_BYTES),
        'the gateway received all 25 items',
      );

      stream.call.cancel();
      const outcome = await stream.outcome;
      const pulled = await pullItems(under.topic, 25);

      assert.equal(outcome.code, status.CANCELLED);
      assert.deepEqual(
        pulled.items.map(i => i.ordinal).sort((a, b) => a - b),
        Array.from({length: 25}, (_, i) => i),
      );
    } finally {
      await under.stop();
    }
  });
});

describe('gateway health and reflection', () => {
  let under: GatewayUnderTest;
  before(async () => {
    under = await startTestGateway(emulator);
  });
  after(() => under.stop());

  it('reports SERVING for the server and items.ItemHandler', async () => {
    const health = new HealthProbe(under.gateway.port);
    try {
      assert.equal(await health.check(''), 'SERVING');
      assert.equal(await health.check('items.ItemHandler'), 'SERVING');
    } finally {
      health.close();
    }
  });

  it('lists items.ItemHandler and the health service through reflection', async () => {
    const services = await reflectedServices(under.gateway.port);

    assert.ok(services.includes('items.ItemHandler'), services.join());
    assert.ok(services.includes('grpc.health.v1.Health'), services.join());
  });
});
