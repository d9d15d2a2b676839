/**
 * Checks on the deployment files that need no cloud: shellcheck on every
 * script, the Dockerfile's required properties, what the ignore files keep
 * out, cloudbuild.yaml naming real scripts, steps and settings, and the
 * settings example matching the settings infra/lib.sh declares.
 */
import {execFile} from 'node:child_process';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {load as loadYaml} from 'js-yaml';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {GATEWAY_NODE_FLAGS} from '../../gateway/node-flags.js';
import {repoRoot} from '../harness/paths.js';

const execFileAsync = promisify(execFile);
const root = repoRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** The settings lib.sh declares, with their defaults. */
function declaredSettings(): Map<string, string> {
  const settings = new Map<string, string>();
  for (const match of read('infra/lib.sh').matchAll(
    /^setting ([A-Z_]+) '([^']*)'$/gm,
  )) {
    settings.set(match[1] ?? '', match[2] ?? '');
  }
  return settings;
}

async function shellcheckAvailable(): Promise<boolean> {
  try {
    await execFileAsync('shellcheck', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('shell scripts', () => {
  it('pass shellcheck, following what they source', async t => {
    if (!(await shellcheckAvailable())) {
      // CI installs it (.ci/run); there, its absence is a failure.
      assert.notEqual(process.env.CI, 'true', 'shellcheck is not installed');
      t.skip('shellcheck is not installed (apt-get install shellcheck)');
      return;
    }
    const scripts = readdirSync(join(root, 'infra'))
      .filter(name => name.endsWith('.sh'))
      .map(name => join('infra', name));
    assert.ok(scripts.length >= 5, `only ${scripts.join(', ')}`);

    const result = await execFileAsync('shellcheck', ['-x', ...scripts], {
      cwd: root,
    }).then(
      () => '',
      (err: {stdout?: string}) => err.stdout ?? String(err),
    );
    assert.equal(result, '');
  });

  it('each start with set -euo pipefail and a usage header', () => {
    for (const name of ['setup.sh', 'deploy.sh', 'teardown.sh']) {
      const text = read(join('infra', name));
      assert.match(text, /^#!\/usr\/bin\/env bash\n#\n# Usage: /, name);
      assert.match(text, /^set -euo pipefail$/m, name);
      assert.match(text, /--dry-run/, name);
    }
  });
});

describe('Dockerfile', () => {
  const lines = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter(line => line.trim() !== '' && !line.startsWith('#'));
  const stages = lines.filter(line => line.startsWith('FROM '));
  const finalStage = lines.slice(lines.lastIndexOf(stages.at(-1) ?? ''));

  it('builds in one Node 24 slim stage and runs in another', () => {
    assert.equal(stages.length, 2);
    assert.match(stages[0] ?? '', /^FROM node:24-slim AS build$/);
    assert.match(stages[1] ?? '', /^FROM node:24-slim$/);
    assert.ok(lines.some(l => /^RUN npm ci\b/.test(l)));
    assert.ok(lines.some(l => /^RUN npm prune --omit=dev\b/.test(l)));
  });

  it('ships only compiled code and production packages to the final stage', () => {
    const copies = finalStage.filter(l => l.startsWith('COPY '));
    assert.ok(copies.length > 0);
    for (const copy of copies) {
      assert.match(copy, /--from=build/, copy);
    }
    const sources = copies.map(c => c.split(/\s+/).at(-2));
    assert.deepEqual(sources.sort(), [
      '/app/dist',
      '/app/node_modules',
      '/app/package.json',
      '/app/proto',
    ]);
  });

  it('runs the gateway as a non-root user on $PORT', () => {
    const user = finalStage.find(l => l.startsWith('USER '));
    assert.ok(user, 'no USER in the final stage');
    assert.doesNotMatch(user, /^USER (root|0)(:|$)/);
    const port = /PORT=(\d+)/.exec(finalStage.join('\n'))?.[1];
    assert.ok(port, 'the final stage sets no PORT');
    assert.ok(finalStage.includes(`EXPOSE ${port}`));
    assert.equal(
      finalStage.at(-1),
      `CMD ${JSON.stringify(['node', ...GATEWAY_NODE_FLAGS, 'dist/gateway/main.js'])}`.replaceAll(
        ',',
        ', ',
      ),
    );
  });

  it('runs the gateway with the same node flags as npm run gateway', () => {
    const pkg = JSON.parse(
      readFileSync(join(repoRoot(), 'package.json'), 'utf8'),
    ) as {scripts: Record<string, string>};
    assert.equal(
      pkg.scripts.gateway,
      ['node', ...GATEWAY_NODE_FLAGS, 'dist/gateway/main.js'].join(' '),
    );
  });

  it('copies only sources that exist into the build stage', () => {
    const buildStage = lines.slice(0, lines.indexOf(stages[1] ?? ''));
    for (const copy of buildStage.filter(l => l.startsWith('COPY '))) {
      const words = copy.split(/\s+/).slice(1, -1);
      for (const source of words.filter(w => !w.startsWith('--'))) {
        assert.ok(existsSync(join(root, source)), `${source} is missing`);
      }
    }
  });
});

describe('ignore files', () => {
  const entries = (path: string) =>
    read(path)
      .split('\n')
      .filter(line => line.trim() !== '' && !line.startsWith('#'))
      .map(line => line.replace(/\/$/, ''));

  it('keep tests, tools and emulators out of the image', () => {
    const ignored = entries('.dockerignore');
    for (const path of ['test', '.tools', 'node_modules', 'dist', 'bench']) {
      assert.ok(ignored.includes(path), `.dockerignore lacks ${path}`);
    }
  });

  it('keep tests, tools and emulators out of the deploy upload', () => {
    const ignored = entries('.gcloudignore');
    for (const path of ['test', '.tools', 'node_modules', 'bench', '.git']) {
      assert.ok(ignored.includes(path), `.gcloudignore lacks ${path}`);
    }
    assert.ok(ignored.includes('infra/settings.env'));
  });
});

describe('cloudbuild.yaml', () => {
  interface Step {
    id?: string;
    name?: string;
    entrypoint?: string;
    args?: string[];
    env?: string[];
  }
  const text = read('cloudbuild.yaml');
  const build = loadYaml(text) as {
    steps?: Step[];
    substitutions?: Record<string, string>;
    images?: string[];
  };
  const steps = build.steps ?? [];
  const byId = (id: string) => steps.find(step => step.id === id);

  it('installs, lints, runs the unit tests, builds, pushes and deploys, in order', () => {
    assert.deepEqual(
      steps.map(step => step.id),
      [
        'install',
        'lint',
        'unit-tests',
        'stage-function',
        'build-image',
        'push-image',
        'deploy',
      ],
    );
    assert.deepEqual(byId('install')?.args?.slice(0, 1), ['ci']);
    assert.deepEqual(byId('lint')?.args, ['run', 'lint']);
    assert.deepEqual(byId('unit-tests')?.args, ['run', 'test:unit']);
    assert.ok(build.images?.includes('${_IMAGE}'));
  });

  it('runs only scripts and npm scripts that exist', () => {
    const pkg = JSON.parse(read('package.json')) as {
      scripts: Record<string, string>;
    };
    for (const step of steps) {
      const args = step.args ?? [];
      if (step.entrypoint === 'bash') {
        const script = args[0] ?? '';
        assert.ok(existsSync(join(root, script)), `${script} is missing`);
      }
      if (step.entrypoint === 'npm' && args[0] === 'run') {
        assert.ok(pkg.scripts[args[1] ?? ''], `no npm script ${args[1]}`);
      }
    }
  });

  it('deploys with steps deploy.sh has and settings lib.sh declares', () => {
    const deploy = byId('deploy');
    assert.ok(deploy);
    assert.equal(deploy.args?.[0], 'infra/deploy.sh');
    const only = deploy.args
      ?.find(a => a.startsWith('--only='))
      ?.slice('--only='.length);
    const known = /^readonly STEPS=\(([^)]*)\)$/m
      .exec(read('infra/deploy.sh'))?.[1]
      ?.split(' ');
    for (const step of only?.split(',') ?? []) {
      assert.ok(known?.includes(step), `deploy.sh has no step ${step}`);
    }

    const settings = declaredSettings();
    for (const pair of deploy.env ?? []) {
      const name = pair.split('=')[0] ?? '';
      assert.ok(settings.has(name), `${name} is not a setting`);
    }
  });

  it('declares every user substitution it uses', () => {
    const used = new Set(
      [...text.matchAll(/\$\{(_[A-Z_]+)\}/g)].map(m => m[1] ?? ''),
    );
    const declared = Object.keys(build.substitutions ?? {});
    assert.deepEqual([...used].sort(), declared.sort());
  });
});

describe('settings.env.example', () => {
  const example = read('infra/settings.env.example');
  // Required settings are written out for the user to fill in.
  const writtenOut = new Set(['PROJECT_ID', 'REGION']);

  it('documents every setting with its default', () => {
    for (const [name, value] of declaredSettings()) {
      if (writtenOut.has(name)) {
        assert.match(example, new RegExp(`^${name}=`, 'm'), name);
      } else {
        assert.match(example, new RegExp(`^#${name}=${value}$`, 'm'), name);
      }
    }
  });

  it('documents nothing that is not a setting', () => {
    const settings = declaredSettings();
    for (const match of example.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)) {
      assert.ok(settings.has(match[1] ?? ''), `${match[1]} is not a setting`);
    }
  });
});
