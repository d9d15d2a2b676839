/**
 * Starts one design's server as its own process group, waits until it
 * accepts calls, counts the lines it prints that the bench needs, and stops
 * it to collect its summary. The server's pid is what /proc is read for.
 */
import {join} from 'node:path';
import {GATEWAY_NODE_FLAGS} from '../gateway/node-flags.js';
import {repoRoot} from '../local/paths.js';
import {
  freePort,
  startProcess,
  waitUntilReady,
  type ManagedProcess,
} from '../local/processes.js';
import type {Design} from './results-model.js';
import {READY_MESSAGE, SUMMARY_MESSAGE} from './servers/server-process.js';

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

/** The gateway logs this once per batch it published (gateway/batcher.ts). */
const BATCH_PUBLISHED = '"batch published"';
const GATEWAY_LISTENING = '"gateway listening"';

/** What a design's server needs to know. */
export interface ServerSpec {
  design: Design;
  /** host:port of the Pub/Sub emulator, for C and D. */
  pubsubHost?: string;
  projectId: string;
  topic: string;
  /** Extra node flags, e.g. --cpu-prof for a profile. */
  nodeFlags?: string[];
}

/** A running server. */
export interface RunningServer {
  readonly pid: number;
  readonly target: string;
  /** 'batch published' lines seen so far (B and C). */
  batchesLogged(): number;
  /** SIGTERM, then the summary line the server printed, if any. */
  stop(): Promise<Record<string, number> | undefined>;
  readonly process: ManagedProcess;
}

/** Starts the server of `spec.design` and waits until it is ready. */
export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const dist = join(repoRoot(), 'dist');
  const gatewayPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    METADATA_SERVER_DETECTION: 'none',
    GOOGLE_CLOUD_PROJECT: spec.projectId,
    PUBSUB_TOPIC: spec.topic,
    PUBSUB_EMULATOR_HOST: spec.pubsubHost ?? '',
    PORT: String(gatewayPort),
    LOG_LEVEL: 'info',
  };
  const scripts: Record<Design, string> = {
    A: join(dist, 'bench', 'servers', 'bare-server.js'),
    B: join(dist, 'bench', 'gateway-with-sink.js'),
    C: join(dist, 'gateway', 'main.js'),
    D: join(dist, 'bench', 'servers', 'naive-server.js'),
  };
  const managed = startProcess(
    `server ${spec.design}`,
    process.execPath,
    [
      ...(spec.nodeFlags ?? []),
      // B and C are the gateway, run as it is deployed.
      ...(spec.design === 'B' || spec.design === 'C' ? GATEWAY_NODE_FLAGS : []),
      scripts[spec.design],
    ],
    {env},
  );
  const pid = managed.child.pid;
  if (pid === undefined) throw new Error(`server ${spec.design} has no pid`);

  let port: number | undefined;
  let batches = 0;
  let summary: Record<string, number> | undefined;
  forEachLine(managed, line => {
    if (line.includes(BATCH_PUBLISHED)) batches++;
    else if (line.includes(READY_MESSAGE)) port = jsonField(line, 'port');
    else if (line.includes(GATEWAY_LISTENING)) port = gatewayPort;
    else if (line.includes(SUMMARY_MESSAGE)) summary = parseSummary(line);
  });
  await waitUntilReady(
    managed,
    async () => port !== undefined,
    READY_TIMEOUT_MS,
  );

  return {
    pid,
    target: `127.0.0.1:${port}`,
    process: managed,
    batchesLogged: () => batches,
    async stop() {
      // The gateway drains on SIGTERM; our servers print their summary.
      managed.signal('SIGTERM');
      const timer = setTimeout(() => managed.signal('SIGKILL'), STOP_GRACE_MS);
      await managed.exited;
      clearTimeout(timer);
      await managed.stop();
      return summary;
    },
  };
}

/** Calls `onLine` for every complete stdout line of the process. */
function forEachLine(managed: ManagedProcess, onLine: (line: string) => void) {
  let partial = '';
  managed.child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}

function jsonField(line: string, field: string): number | undefined {
  const value = (JSON.parse(line) as Record<string, unknown>)[field];
  return typeof value === 'number' ? value : undefined;
}

function parseSummary(line: string): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const [key, value] of Object.entries(JSON.parse(line) as object)) {
    if (typeof value === 'number') summary[key] = value;
  }
  return summary;
}
