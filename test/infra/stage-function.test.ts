/**
 * infra/stage-function.sh on a fixture repository: the upload holds what the
 * function loads, names it as `main`, runs no build, and never deletes a
 * directory it did not create.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {runScript} from './scripts.js';

function fixtureRepository(withFunction = true): string {
  const repo = mkdtempSync(join(tmpdir(), 'stage-repo-'));
  const files: Record<string, string> = {
    'package.json': JSON.stringify({
      name: 'x',
      type: 'module',
      scripts: {build: 'tsc'},
      dependencies: {a: '1.0.0'},
      devDependencies: {typescript: '6.0.0'},
    }),
    'package-lock.json': '{"lockfileVersion": 3}',
    'dist/envelope/codec.js': '',
    'dist/gateway/main.js': '',
    'dist/test/unit/x.test.js': '',
    'infra/schema/tables.json': '{}',
  };
  if (withFunction) files['dist/functions/index.js'] = 'export {};';
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), {recursive: true});
    writeFileSync(join(repo, path), text);
  }
  return repo;
}

// node must be reachable: the script rewrites package.json with it.
const env = () => ({
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
});

describe('stage-function.sh', () => {
  it('stages the function module as main, with no scripts to run', async () => {
    const repo = fixtureRepository();
    const out = join(mkdtempSync(join(tmpdir(), 'stage-out-')), 'function');

    const result = await runScript('stage-function.sh', [out, repo], env());

    assert.equal(result.code, 0, result.stderr);
    const pkg = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'));
    assert.equal(pkg.main, 'dist/functions/index.js');
    assert.equal(pkg.scripts, undefined);
    assert.deepEqual(pkg.dependencies, {a: '1.0.0'});
    assert.ok(existsSync(join(out, 'package-lock.json')));
    assert.ok(existsSync(join(out, 'dist/functions/index.js')));
    assert.ok(existsSync(join(out, 'dist/envelope/codec.js')));
    assert.ok(existsSync(join(out, 'infra/schema/tables.json')));
    assert.ok(!existsSync(join(out, 'dist/gateway')));
    assert.ok(!existsSync(join(out, 'dist/test')));
  });

  it('replaces an earlier staging', async () => {
    const repo = fixtureRepository();
    const out = join(mkdtempSync(join(tmpdir(), 'stage-out-')), 'function');
    await runScript('stage-function.sh', [out, repo], env());
    writeFileSync(join(out, 'dist', 'stale.js'), '');

    const result = await runScript('stage-function.sh', [out, repo], env());

    assert.equal(result.code, 0, result.stderr);
    assert.ok(!existsSync(join(out, 'dist', 'stale.js')));
  });

  it('refuses to replace a directory it did not create', async () => {
    const repo = fixtureRepository();
    const out = mkdtempSync(join(tmpdir(), 'stage-out-'));
    writeFileSync(join(out, 'precious.txt'), 'keep me');

    const result = await runScript('stage-function.sh', [out, repo], env());

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /not a function staging/);
    assert.equal(readFileSync(join(out, 'precious.txt'), 'utf8'), 'keep me');
  });

  it('fails when the function has not been built', async () => {
    const repo = fixtureRepository(false);
    const out = join(mkdtempSync(join(tmpdir(), 'stage-out-')), 'function');

    const result = await runScript('stage-function.sh', [out, repo], env());

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /run npm run build/);
    assert.ok(!existsSync(out));
  });
});
