/**
 * Starts the real emulators the integration and end-to-end tests run
 * against, on free loopback ports:
 *
 * - Pub/Sub: Google's official emulator, through `gcloud beta emulators
 *   pubsub start`. gcloud runs it as a java grandchild; the whole process
 *   group is paused, resumed and stopped together.
 * - BigQuery: goccy/bigquery-emulator, installed into .tools/bin by
 *   scripts/install-bigquery-emulator.sh. Its gaps against the real service,
 *   and how the tests cope with each, are listed in docs/emulator-gaps.md.
 *
 * `npm test` starts one of each for the whole run (test/run.ts) and passes
 * them on through the environment; a test that pauses or kills an emulator
 * starts its own instead, so it cannot disturb other tests.
 */
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {BigQuery} from '@google-cloud/bigquery';
import {
  freePort,
  startProcess,
  waitUntilReady,
  type ManagedProcess,
} from './processes.js';
import {repoRoot} from './paths.js';

/** Project id every emulator is started with unless told otherwise. */
export const EMULATOR_PROJECT = 'local-project';

/** Environment variable through which test/run.ts shares its instances. */
export const SHARED_BIGQUERY_ENV = 'TEST_BIGQUERY_ENDPOINT';

const READY_TIMEOUT_MS = 60_000;

/** Common control of a running emulator. */
export interface Emulator {
  readonly projectId: string;
  readonly port: number;
  /** Freezes it (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Thaws a paused emulator (SIGCONT). */
  resume(): void;
  /** Stops it and everything it spawned; idempotent. */
  stop(): Promise<void>;
  /** The process group, for tests that kill it outright. */
  readonly process: ManagedProcess | undefined;
}

export interface PubSubEmulator extends Emulator {
  /** host:port, the form PUBSUB_EMULATOR_HOST takes. */
  readonly host: string;
}

export interface BigQueryEmulator extends Emulator {
  /** Base URL, e.g. http://127.0.0.1:9050, for the client's apiEndpoint. */
  readonly endpoint: string;
}

/** Starts the official Pub/Sub emulator and waits until it answers. */
export async function startPubSubEmulator(
  options: {port?: number; projectId?: string} = {},
): Promise<PubSubEmulator> {
  const projectId = options.projectId ?? EMULATOR_PROJECT;
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const managed = startProcess('pubsub-emulator', 'gcloud', [
    'beta',
    'emulators',
    'pubsub',
    'start',
    `--host-port=${host}`,
    `--project=${projectId}`,
    '--quiet',
  ]);

  await waitUntilReady(
    managed,
    () => httpOk(`http://${host}/v1/projects/${projectId}/topics`),
    READY_TIMEOUT_MS,
  );
  return {host, ...control(managed, projectId, port)};
}

/** Path of the BigQuery emulator binary the install script builds. */
export function bigQueryEmulatorBinary(): string {
  return join(repoRoot(), '.tools', 'bin', 'bigquery-emulator');
}

/** Starts the BigQuery emulator and waits until it lists datasets. */
export async function startBigQueryEmulator(
  options: {port?: number; projectId?: string} = {},
): Promise<BigQueryEmulator> {
  const binary = bigQueryEmulatorBinary();
  if (!existsSync(binary)) {
    throw new Error(
      `${binary} is missing: run scripts/install-bigquery-emulator.sh`,
    );
  }
  const projectId = options.projectId ?? EMULATOR_PROJECT;
  const port = options.port ?? (await freePort());
  const grpcPort = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const managed = startProcess('bigquery-emulator', binary, [
    `--project=${projectId}`,
    '--host=127.0.0.1',
    `--port=${port}`,
    `--grpc-port=${grpcPort}`,
    '--log-level=warn',
  ]);

  // The emulator has no health endpoint; listing datasets proves that the
  // REST API and its storage are both up.
  await waitUntilReady(
    managed,
    () => httpOk(`${endpoint}/bigquery/v2/projects/${projectId}/datasets`),
    READY_TIMEOUT_MS,
  );
  return {endpoint, ...control(managed, projectId, port)};
}

let shared: Promise<{pubsub: PubSubEmulator; bigquery: BigQueryEmulator}>;

/**
 * The emulators of this test run: those test/run.ts started, named in the
 * environment, or else a pair started now and stopped when the process exits.
 */
export function sharedEmulators(): Promise<{
  pubsub: PubSubEmulator;
  bigquery: BigQueryEmulator;
}> {
  shared ??= resolveShared();
  return shared;
}

async function resolveShared() {
  const pubsubHost = process.env.PUBSUB_EMULATOR_HOST;
  const bigqueryEndpoint = process.env[SHARED_BIGQUERY_ENV];
  if (pubsubHost !== undefined && bigqueryEndpoint !== undefined) {
    return {
      pubsub: external(pubsubHost, {host: pubsubHost}),
      bigquery: external(bigqueryEndpoint, {endpoint: bigqueryEndpoint}),
    };
  }
  const [pubsub, bigquery] = await Promise.all([
    startPubSubEmulator(),
    startBigQueryEmulator(),
  ]);
  process.env.PUBSUB_EMULATOR_HOST = pubsub.host;
  return {pubsub, bigquery};
}

/**
 * A BigQuery client for the emulator that fails fast: no retries, so an
 * emulator fault shows as a test failure at once, not minutes later.
 */
export function bigQueryClient(endpoint: string, projectId: string) {
  return new BigQuery({
    projectId,
    apiEndpoint: endpoint,
    autoRetry: false,
    maxRetries: 0,
  });
}

function control(
  managed: ManagedProcess,
  projectId: string,
  port: number,
): Emulator {
  return {
    projectId,
    port,
    process: managed,
    pause: () => void managed.signal('SIGSTOP'),
    resume: () => void managed.signal('SIGCONT'),
    stop: () => managed.stop(),
  };
}

/** An emulator some other process owns: this one must not control it. */
function external<T extends object>(address: string, fields: T): T & Emulator {
  const refuse = () => {
    throw new Error(
      `the shared emulator at ${address} belongs to the test runner; ` +
        'start your own instance to pause or stop one',
    );
  };
  const port = Number(address.split(':').at(-1));
  return {
    ...fields,
    projectId: EMULATOR_PROJECT,
    port,
    process: undefined,
    pause: refuse,
    resume: refuse,
    stop: async () => {},
  };
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, {signal: AbortSignal.timeout(2_000)});
  await response.body?.cancel();
  return response.ok;
}
