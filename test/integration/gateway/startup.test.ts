import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {repoRoot} from '../../../local/paths.js';

const run = promisify(execFile);
const MAIN = join(repoRoot(), 'dist', 'gateway', 'main.js');
const VALID = {
  GOOGLE_CLOUD_PROJECT: 'local-project',
  PUBSUB_TOPIC: 'items',
  METADATA_SERVER_DETECTION: 'none',
};

/** Runs the compiled gateway with `env` and returns how it exited. */
async function start(env: Record<string, string>) {
  try {
    await run(process.execPath, [MAIN], {
      env: {PATH: process.env.PATH, ...env},
      timeout: 10_000,
    });
    return {code: 0, stderr: ''};
  } catch (err) {
    const failed = err as {code?: number; stderr?: string};
    return {code: failed.code, stderr: failed.stderr ?? ''};
  }
}

describe('gateway process start-up', () => {
  const refused: [string, Record<string, string>, string][] = [
    [
      'without a project or topic',
      {METADATA_SERVER_DETECTION: 'none'},
      'GOOGLE_CLOUD_PROJECT is required',
    ],
    [
      'with a port that is not a number',
      {...VALID, PORT: 'http'},
      'PORT="http" is invalid: must be a whole number',
    ],
    [
      'with BATCH_MAX_ITEMS=0',
      {...VALID, BATCH_MAX_ITEMS: '0'},
      'BATCH_MAX_ITEMS="0" is invalid: must be between 1 and 50000',
    ],
    [
      'with an unknown compression',
      {...VALID, BATCH_COMPRESSION: 'zstd'},
      'BATCH_COMPRESSION="zstd" is invalid: must be one of identity, gzip',
    ],
    [
      'with a payload limit no batch can hold',
      {...VALID, GATEWAY_MAX_PAYLOAD_BYTES: String(1024 * 1024)},
      'every valid item must fit a batch',
    ],
  ];
  for (const [what, env, expected] of refused) {
    it(`refuses to start ${what}, printing one line and exiting 1`, async () => {
      const {code, stderr} = await start(env);

      assert.equal(code, 1);
      const lines = stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.ok(lines[0]?.startsWith('gateway: refusing to start: '), stderr);
      assert.ok(stderr.includes(expected), stderr);
    });
  }
});
