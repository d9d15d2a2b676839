/**
 * `npm test`: starts one Pub/Sub and one BigQuery emulator for the whole run,
 * runs node's test runner over the compiled tests with their addresses in the
 * environment, and stops the emulators afterwards, whatever the outcome.
 *
 * Usage: node dist/test/run.js [unit|integration|e2e|reliability|infra ...]
 *   With no argument every suite runs. `unit` alone starts no emulator.
 */
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {
  SHARED_BIGQUERY_ENV,
  startBigQueryEmulator,
  startPubSubEmulator,
} from './harness/emulators.js';
import {repoRoot} from '../local/paths.js';

const SUITES = ['unit', 'integration', 'e2e', 'reliability', 'infra'] as const;
type Suite = (typeof SUITES)[number];

function chosenSuites(args: string[]): Suite[] {
  if (args.length === 0) return [...SUITES];
  const unknown = args.filter(a => !(SUITES as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(
      `unknown suite ${unknown.join(', ')}; use ${SUITES.join(', ')}`,
    );
    process.exit(2);
  }
  return args as Suite[];
}

async function main(): Promise<number> {
  const suites = chosenSuites(process.argv.slice(2));
  const needsEmulators = suites.some(suite => suite !== 'unit');
  // Off Google Cloud the auth library would probe the metadata server for a
  // project and credentials, which only adds delays and warnings here.
  const env: NodeJS.ProcessEnv = {
    METADATA_SERVER_DETECTION: 'none',
    ...process.env,
  };

  const started = [];
  if (needsEmulators) {
    console.error('starting the Pub/Sub and BigQuery emulators');
    const [pubsub, bigquery] = await Promise.all([
      startPubSubEmulator(),
      startBigQueryEmulator(),
    ]);
    started.push(pubsub, bigquery);
    env.PUBSUB_EMULATOR_HOST = pubsub.host;
    env[SHARED_BIGQUERY_ENV] = bigquery.endpoint;
    console.error(
      `emulators up: Pub/Sub ${pubsub.host}, BigQuery ${bigquery.endpoint}`,
    );
  }

  try {
    const distTest = join(repoRoot(), 'dist', 'test');
    // A suite without tests yet is skipped: node --test fails on a pattern
    // that matches nothing.
    const patterns = suites
      .filter(suite => existsSync(join(distTest, suite)))
      .map(suite => `${distTest}/${suite}/**/*.test.js`);
    const child = spawn(
      process.execPath,
      ['--test', '--test-reporter=spec', ...patterns],
      {env, stdio: 'inherit'},
    );
    const [code] = (await once(child, 'exit')) as [number | null];
    return code ?? 1;
  } finally {
    await Promise.all(started.map(emulator => emulator.stop()));
  }
}

process.exitCode = await main();
