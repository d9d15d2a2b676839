import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {join} from 'node:path';
import {repoRoot} from '../../../local/paths.js';

const CLI = join(repoRoot(), 'dist', 'producer', 'cli.js');

function runCli(args: string[], input = '') {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    input,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return {code: result.status, stdout: result.stdout, stderr: result.stderr};
}

describe('ingest-produce', () => {
  it('exits 2 and names each bad NDJSON line, sending nothing', () => {
    const input =
      '{"createdAt":"2026-01-01T00:00:00Z","payload":"AA=="}\n' +
      '{"createdAt":"2026-01-01T00:00:00Z"}\n' +
      '{oops\n';

    // Port 1 is never served: the CLI must fail on input before connecting.
    const result = runCli(['--target', '127.0.0.1:1'], input);

    assert.equal(result.code, 2);
    assert.match(result.stderr, /line 2: payload must be a string/);
    assert.match(result.stderr, /line 3: /);
    assert.match(result.stderr, /2 bad input line\(s\); nothing was sent/);
  });

  it('exits 2 on an unknown flag, with the usage', () => {
    const result = runCli(['--frobnicate']);

    assert.equal(result.code, 2);
    assert.match(result.stderr, /Usage: ingest-produce/);
  });

  it('exits 1 and reports the stream when the gateway cannot be reached', () => {
    const result = runCli([
      '--target',
      '127.0.0.1:1',
      '--items',
      '3',
      '--attempts',
      '2',
      '--backoff-ms',
      '1',
      '--key-prefix',
      'k',
    ]);

    assert.equal(result.code, 1);
    assert.match(result.stdout, /stream k-0 FAILED UNAVAILABLE: .* attempts=2/);
  });
});
