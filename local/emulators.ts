/**
 * Starts the real emulators the local stack and the tests run against, on
 * loopback ports (free ones unless a port is given):
 *
 * - Pub/Sub: Google's official emulator, through `gcloud beta emulators
 *   pubsub start`. gcloud runs it as a java grandchild; the whole process
 *   group is paused, resumed and stopped together.
 * - BigQuery: goccy/bigquery-emulator, installed into .tools/bin by
 *   scripts/install-bigquery-emulator.sh. Its gaps against the real service,
 *   and how the tests cope with each, are listed in docs/emulator-gaps.md.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {
  freePort,
  startProcess,
  waitUntilReady,
  type ManagedProcess,
} from './processes.js';
import {repoRoot} from './paths.js';

/** Project id every emulator is started with unless told otherwise. */
export const EMULATOR_PROJECT = 'local-project';

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
  options: {port?: number; grpcPort?: number; projectId?: string} = {},
): Promise<BigQueryEmulator> {
  const binary = bigQueryEmulatorBinary();
  if (!existsSync(binary)) {
    throw new Error(
      `${binary} is missing: run scripts/install-bigquery-emulator.sh`,
    );
  }
  const projectId = options.projectId ?? EMULATOR_PROJECT;
  const port = options.port ?? (await freePort());
  const grpcPort = options.grpcPort ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  // Left to itself the emulator keeps its data in a file of its own in /tmp,
  // which a SIGKILL leaves behind; a folder of ours is removed on stop.
  const dataFolder = mkdtempSync(join(tmpdir(), 'bigquery-emulator-'));
  const managed = startProcess('bigquery-emulator', binary, [
    `--project=${projectId}`,
    '--host=127.0.0.1',
    `--port=${port}`,
    `--grpc-port=${grpcPort}`,
    `--database=${join(dataFolder, 'data.db')}`,
    '--log-level=warn',
  ]);
  void managed.exited.then(() =>
    rmSync(dataFolder, {recursive: true, force: true}),
  );

  // The emulator has no health endpoint; listing datasets proves that the
  // REST API and its storage are both up.
  await waitUntilReady(
    managed,
    () => httpOk(`${endpoint}/bigquery/v2/projects/${projectId}/datasets`),
    READY_TIMEOUT_MS,
  );
  return {endpoint, ...control(managed, projectId, port)};
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

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, {signal: AbortSignal.timeout(2_000)});
  await response.body?.cancel();
  return response.ok;
}
