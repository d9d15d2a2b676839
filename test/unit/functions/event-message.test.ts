import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {once} from 'node:events';
import type {AddressInfo} from 'node:net';
import * as functions from '@google-cloud/functions-framework';
import {getTestServer} from '@google-cloud/functions-framework/testing';
import {
  EventShapeError,
  messageFromEvent,
} from '../../../functions/event-message.js';

const data = Buffer.from([0xff, 0x00, 0x01]);

/** What the official Pub/Sub emulator posts to a push endpoint. */
const pushBody = {
  subscription: 'projects/local-project/subscriptions/s',
  message: {
    data: data.toString('base64'),
    attributes: {schema: 'ingest.v1.BatchEnvelope'},
    messageId: '42',
    message_id: '42',
    publishTime: '2026-12-03T18:13:37.628Z',
    publish_time: '2026-12-03T18:13:37.628Z',
  },
};

/** Posts a push body through the real framework and returns the event. */
async function marshalled(
  body: unknown,
  path: string,
): Promise<functions.CloudEvent<unknown>> {
  let received: functions.CloudEvent<unknown> | undefined;
  functions.cloudEvent<unknown>(
    'eventMessageProbe',
    (event: functions.CloudEvent<unknown>) => {
      received = event;
    },
  );
  const server = getTestServer('eventMessageProbe');
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const {port} = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    assert.ok(response.ok, `framework answered ${response.status}`);
  } finally {
    server.close();
  }
  if (received === undefined) throw new Error('no event received');
  return received;
}

describe('CloudEvent to message', () => {
  it('reads a push delivery as the Functions Framework marshals it', async () => {
    const event = await marshalled(
      pushBody,
      '/projects/local-project/topics/batches',
    );

    const message = messageFromEvent(event);

    assert.equal(event.type, 'google.cloud.pubsub.topic.v1.messagePublished');
    assert.deepEqual(message, {
      data,
      attributes: {schema: 'ingest.v1.BatchEnvelope'},
      messageId: '42',
      publishTime: '2026-12-03T18:13:37.628Z',
      // The framework drops it; only Eventarc delivers it.
      subscription: undefined,
    });
  });

  it('reads an Eventarc event, subscription included', () => {
    const message = messageFromEvent({
      specversion: '1.0',
      id: 'event-1',
      source: '//pubsub.googleapis.com/projects/p/topics/t',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      data: {
        message: {
          data: data.toString('base64'),
          attributes: {a: '1'},
          messageId: '43',
          publishTime: '2026-12-03T18:13:38Z',
        },
        subscription: 'projects/p/subscriptions/s',
      },
    });

    assert.deepEqual(message, {
      data,
      attributes: {a: '1'},
      messageId: '43',
      publishTime: '2026-12-03T18:13:38Z',
      subscription: 'projects/p/subscriptions/s',
    });
  });

  it('falls back to snake_case ids, then to the event id', () => {
    const base = {specversion: '1.0', source: 's', type: 't'} as const;

    const snake = messageFromEvent({
      ...base,
      id: 'event-2',
      data: {message: {data: '', message_id: '44'}},
    });
    const bare = messageFromEvent({
      ...base,
      id: 'event-3',
      data: {message: {data: ''}},
    });

    assert.equal(snake.messageId, '44');
    assert.equal(bare.messageId, 'event-3');
    assert.deepEqual(bare.attributes, {});
    assert.equal(bare.data.byteLength, 0);
  });

  for (const [name, eventData] of [
    ['no data', undefined],
    ['data without a message', {subscription: 's'}],
    ['a message whose data is not a string', {message: {data: 7}}],
  ] as const) {
    it(`refuses an event with ${name} as EventShapeError`, () => {
      assert.throws(
        () =>
          messageFromEvent({
            specversion: '1.0',
            id: 'event-4',
            source: 's',
            type: 't',
            data: eventData,
          }),
        EventShapeError,
      );
    });
  }
});
