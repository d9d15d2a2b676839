import {after, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerReadableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  ItemHandlerService,
  type ItemMessage,
  type JoinMessage,
} from '../../../generated/items.js';
import {connect, parseTarget} from '../../../producer/connection.js';
import {sendStream} from '../../../producer/stream-sender.js';
import type {ItemHandlerClient} from '../../../generated/items.js';

/** What a fake gateway saw of one attempt. */
interface Attempt {
  key: string | undefined;
  createdAts: string[];
}

/**
 * A fake gateway: fails the first `failures` attempts with `code` after
 * reading every item, then replies with the idempotency key.
 */
function fakeGateway(failures: number, code: status) {
  const attempts: Attempt[] = [];
  const server = new Server();
  server.addService(ItemHandlerService, {
    stream(
      call: ServerReadableStream<ItemMessage, JoinMessage>,
      callback: sendUnaryData<JoinMessage>,
    ) {
      const key = call.metadata.get('idempotency-key')[0]?.toString();
      const attempt: Attempt = {key, createdAts: []};
      attempts.push(attempt);
      call.on('data', (item: ItemMessage) =>
        attempt.createdAts.push(item.createdAt),
      );
      call.on('end', () => {
        if (attempts.length <= failures) {
          const trailer = new Metadata();
          trailer.set('items-accepted', '1');
          callback({code, details: 'try later', metadata: trailer});
        } else {
          callback(null, {id: key ?? 'generated'});
        }
      });
    },
  });
  return {server, attempts};
}

async function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      ServerCredentials.createInsecure(),
      (err, port) => (err ? reject(err) : resolve(port)),
    ),
  );
}

const plan = {
  idempotencyKey: 'key-1',
  itemCount: 3,
  itemAt: (ordinal: number) => ({
    createdAt: `2026-01-01T00:00:0${ordinal}Z`,
    payload: Buffer.from([ordinal]),
  }),
  maxAttempts: 3,
  backoffMs: 1,
  attemptTimeoutMs: 10_000,
};

describe('sendStream', () => {
  let client: ItemHandlerClient;
  let fake: ReturnType<typeof fakeGateway>;
  const servers: Server[] = [];

  async function against(failures: number, code: status) {
    fake = fakeGateway(failures, code);
    servers.push(fake.server);
    const port = await listen(fake.server);
    client = connect(parseTarget(`127.0.0.1:${port}`));
  }

  after(() => {
    for (const server of servers) server.forceShutdown();
  });

  it('retries UNAVAILABLE with the same key and the same items', async () => {
    await against(2, status.UNAVAILABLE);

    const outcome = await sendStream(client, plan);
    client.close();

    assert.equal(outcome.ok, true);
    assert.equal(outcome.streamId, 'key-1');
    assert.equal(outcome.attempts, 3);
    assert.deepEqual(
      fake.attempts.map(a => a.key),
      ['key-1', 'key-1', 'key-1'],
    );
    for (const attempt of fake.attempts) {
      assert.deepEqual(attempt.createdAts, [
        '2026-01-01T00:00:00Z',
        '2026-01-01T00:00:01Z',
        '2026-01-01T00:00:02Z',
      ]);
    }
  });

  it('gives up after maxAttempts and reports the last status and trailer', async () => {
    await against(5, status.UNAVAILABLE);

    const outcome = await sendStream(client, plan);
    client.close();

    assert.equal(outcome.ok, false);
    assert.equal(outcome.attempts, 3);
    assert.deepEqual(outcome.error, {
      code: 'UNAVAILABLE',
      details: 'try later',
    });
    assert.equal(outcome.itemsAccepted, 1);
  });

  it('does not retry INVALID_ARGUMENT', async () => {
    await against(5, status.INVALID_ARGUMENT);

    const outcome = await sendStream(client, plan);
    client.close();

    assert.equal(outcome.attempts, 1);
    assert.equal(outcome.error?.code, 'INVALID_ARGUMENT');
  });
});
