import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {createServer} from 'node:net';
import {join} from 'node:path';
import {freePort, isPortFree} from '../../local/processes.js';
import {repoRoot} from '../../local/paths.js';

const READY_LINE = 'local stack ready';
const START_TIMEOUT_MS = 90_000;

describe('npm run local', () => {
  it('starts, says it is ready, and on SIGINT leaves nothing listening', async () => {
    const ports = await Promise.all(Array.from({length: 5}, () => freePort()));
    const [gateway, fn, pubsub, bigquery, grpc] = ports.map(String);
    const child = spawn(
      process.execPath,
      [join(repoRoot(), 'dist', 'local', 'main.js')],
      {
        env: {
          ...process.env,
          LOCAL_GATEWAY_PORT: gateway,
          LOCAL_FUNCTION_PORT: fn,
          LOCAL_PUBSUB_PORT: pubsub,
          LOCAL_BIGQUERY_PORT: bigquery,
          LOCAL_BIGQUERY_GRPC_PORT: grpc,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', chunk => (stdout += chunk));
    child.stderr.resume();
    const exited = once(child, 'exit');

    const ready = await new Promise<boolean>(resolve => {
      const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
      child.stdout.on('data', () => {
        if (stdout.includes(READY_LINE)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      void exited.then(() => resolve(false));
    });
    const listeningWhileUp = await Promise.all(ports.map(isPortFree));
    child.kill('SIGINT');
    const [code] = await exited;
    const freeAfter = await Promise.all(ports.map(isPortFree));

    assert.ok(ready, `no ready line; output:\n${stdout}`);
    assert.match(stdout, new RegExp(`gateway\\s+grpc://127.0.0.1:${gateway}`));
    assert.deepEqual(listeningWhileUp, [false, false, false, false, false]);
    assert.equal(code, 0);
    assert.deepEqual(freeAfter, [true, true, true, true, true]);
  });

  it('names the port that is already taken', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const address = blocker.address();
    const taken = typeof address === 'object' && address ? address.port : 0;

    const child = spawn(
      process.execPath,
      [join(repoRoot(), 'dist', 'local', 'main.js')],
      {
        env: {...process.env, LOCAL_GATEWAY_PORT: String(taken)},
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', chunk => (stderr += chunk));
    const [code] = await once(child, 'exit');
    blocker.close();

    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`port ${taken} .* LOCAL_GATEWAY_PORT`));
  });
});
