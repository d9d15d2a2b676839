import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {credentials, status} from '@grpc/grpc-js';
import {ItemHandlerClient} from '../../../generated/items.js';
import {repoRoot} from '../../../local/paths.js';
import {
  startPubSubEmulator,
  type PubSubEmulator,
} from '../../harness/emulators.js';
import {
  freePort,
  startProcess,
  waitUntilReady,
} from '../../harness/processes.js';
import {
  createTestTopic,
  item,
  openStream,
  pullItems,
  sendStream,
  until,
  type TestTopic,
} from './fixture.js';
import {HealthProbe} from './probe-clients.js';

// The emulator is frozen during the drain, so this file runs its own.
let emulator: PubSubEmulator;
let topic: TestTopic;

before(async () => {
  emulator = await startPubSubEmulator();
  topic = await createTestTopic(emulator, 'shutdown');
});
after(async () => {
  emulator.resume();
  await topic.admin.close();
  await emulator.stop();
});

/** Upper bound on waiting for the process to exit by itself. */
const EXIT_WAIT_MS = 15_000;

describe('gateway process on SIGTERM', () => {
  it('drains: health NOT_SERVING, new calls UNAVAILABLE, finished streams replied, open ones UNAVAILABLE, exit 0', async () => {
    const port = await freePort();
    const gateway = startProcess(
      'gateway',
      process.execPath,
      [join(repoRoot(), 'dist', 'gateway', 'main.js')],
      {
        env: {
          ...process.env,
          METADATA_SERVER_DETECTION: 'none',
          PORT: String(port),
          GOOGLE_CLOUD_PROJECT: emulator.projectId,
          PUBSUB_TOPIC: topic.name,
          PUBSUB_EMULATOR_HOST: emulator.host,
          PUBLISH_TIMEOUT_MS: '5000',
          GATEWAY_SHUTDOWN_GRACE_MS: '8000',
          BATCH_MAX_DELAY_MS: '10000',
          LOG_LEVEL: 'info',
        },
      },
    );
    const health = new HealthProbe(port);
    const client = new ItemHandlerClient(
      `127.0.0.1:${port}`,
      credentials.createInsecure(),
    );
    try {
      await waitUntilReady(
        gateway,
        async () => (await health.check('')) === 'SERVING',
        10_000,
      );
      const warmUp = await sendStream(client, [item(0)]);
      assert.equal(warmUp.code, status.OK, warmUp.details);
      const watch = health.watch('items.ItemHandler');
      emulator.pause();

      // One stream has sent everything, the other is still sending; the
      // batch holding their items cannot be published while frozen.
      const finished = openStream(client);
      const sending = openStream(client);
      await sending.write([0, 1, 2, 3].map(i => item(i)));
      await finished.write([0, 1, 2, 3, 4].map(i => item(i)));
      finished.call.end();
      await sleep(300);

      gateway.signal('SIGTERM');
      await until(
        () => watch.statuses.includes('NOT_SERVING'),
        'health watch reports NOT_SERVING',
      );
      // An open Watch would hold the server's graceful stop until the grace
      // period ends.
      watch.cancel();
      const refused = await sendStream(client, [item(0)]);
      emulator.resume();
      const [finishedOutcome, sendingOutcome] = await Promise.all([
        finished.outcome,
        sending.outcome,
      ]);
      const exitCode = await Promise.race([
        gateway.exited,
        sleep(EXIT_WAIT_MS).then(() => 'still running'),
      ]);

      assert.equal(refused.code, status.UNAVAILABLE);
      assert.match(refused.details, /shutting down/);
      assert.equal(finishedOutcome.code, status.OK, finishedOutcome.details);
      assert.equal(finishedOutcome.itemsAccepted, 5);
      assert.equal(sendingOutcome.code, status.UNAVAILABLE);
      assert.match(sendingOutcome.details, /shutting down/);
      assert.equal(sendingOutcome.itemsAccepted, 4);
      assert.equal(exitCode, 0, gateway.recentOutput.join('\n'));

      const {items} = await pullItems(topic, 1 + 5 + 4);
      assert.equal(items.length, 10);
      assert.equal(
        items.filter(i => i.streamId === finishedOutcome.id).length,
        5,
      );
    } finally {
      client.close();
      health.close();
      await gateway.stop();
    }
  });
});
