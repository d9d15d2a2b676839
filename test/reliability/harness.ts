/**
 * What the reliability tests share: a whole local stack of their own on
 * free ports (each test file breaks it on purpose), ways to kill and
 * restart each of its parts the way local/stack.ts started them, a client
 * that sends one stream attempt and records how it ended, and the check
 * every fault test ends with: what was acknowledged is stored, and the
 * dedup view holds nothing twice.
 */
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {credentials, Metadata, status} from '@grpc/grpc-js';
import {ItemHandlerClient, type ItemMessage} from '../../generated/items.js';
import {GATEWAY_NODE_FLAGS} from '../../gateway/node-flags.js';
import {ITEMS_ACCEPTED_TRAILER} from '../../gateway/status.js';
import {startPubSubEmulator, type Emulator} from '../../local/emulators.js';
import {repoRoot} from '../../local/paths.js';
import {
  freePort,
  startProcess,
  waitUntilReady,
  type ManagedProcess,
} from '../../local/processes.js';
import {
  resolveLocalSettings,
  type LocalSettings,
} from '../../local/settings.js';
import {
  createPubSubResources,
  startStack,
  type RunningStack,
} from '../../local/stack.js';

export {until} from '../harness/wait.js';

const READY_TIMEOUT_MS = 60_000;
/** How long a test waits for acknowledged items to reach the view. */
export const DELIVERY_TIMEOUT_MS = 90_000;

/** A stack under fault injection and the parts that replaced its own. */
export interface FaultStack {
  readonly stack: RunningStack;
  readonly settings: LocalSettings;
  /** host:port of the gateway; the same across restarts. */
  readonly gatewayAddress: string;
  /** The gateway process running now. */
  readonly gateway: ManagedProcess;
  /** The function process running now. */
  readonly function: ManagedProcess;
  /** The Pub/Sub emulator running now. */
  readonly pubsub: Emulator;
  /** Every JSON line the function processes logged, in order. */
  readonly functionLogs: Record<string, unknown>[];
  /** Starts a new gateway on the same port, with the same settings. */
  restartGateway(): Promise<ManagedProcess>;
  /** Starts a new function on the same port, with the same settings. */
  restartFunction(): Promise<ManagedProcess>;
  /**
   * Kills the Pub/Sub emulator (SIGKILL to its group) and waits until it
   * is gone; `startPubSub` brings one back on the same port.
   */
  killPubSub(): Promise<void>;
  /**
   * Starts the Pub/Sub emulator on its old port and creates the topics and
   * subscriptions again: the emulator keeps them in memory only.
   */
  startPubSub(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a stack on free ports. `env` holds settings of the gateway and
 * the function (PUBLISH_TIMEOUT_MS, INSERT_TIMEOUT_MS...), which the stack
 * passes on from this process's environment, and of the stack itself
 * (MIN_RETRY_DELAY_SECONDS...). Each test file runs in its own process,
 * so setting them here touches no other test.
 */
export async function startFaultStack(
  env: Record<string, string> = {},
): Promise<FaultStack> {
  const ports = await Promise.all(Array.from({length: 5}, () => freePort()));
  const [gateway, fn, pubsub, bigquery, grpc] = ports.map(String);
  const stackEnv: Record<string, string> = {
    METADATA_SERVER_DETECTION: 'none',
    MIN_RETRY_DELAY_SECONDS: '0',
    MAX_RETRY_DELAY_SECONDS: '1',
    LOG_LEVEL: 'info',
    ...env,
  };
  Object.assign(process.env, stackEnv);
  const settings = resolveLocalSettings({
    ...stackEnv,
    LOCAL_GATEWAY_PORT: gateway,
    LOCAL_FUNCTION_PORT: fn,
    LOCAL_PUBSUB_PORT: pubsub,
    LOCAL_BIGQUERY_PORT: bigquery,
    LOCAL_BIGQUERY_GRPC_PORT: grpc,
  });
  const stack = await startStack(settings);

  const functionLogs: Record<string, unknown>[] = [];
  let currentGateway = stack.gateway;
  let currentFunction = stack.function;
  let currentPubSub: Emulator = stack.pubsub;
  const replacements = new Set<{stop(): Promise<void>}>();
  collectLogs(currentFunction, functionLogs);

  const processEnv = (port: number): NodeJS.ProcessEnv => ({
    ...process.env,
    METADATA_SERVER_DETECTION: 'none',
    GOOGLE_CLOUD_PROJECT: settings.projectId,
    PUBSUB_EMULATOR_HOST: `127.0.0.1:${settings.pubsubPort}`,
    PUBSUB_TOPIC: settings.topic,
    BIGQUERY_EMULATOR_HOST: stack.endpoints.bigquery,
    BIGQUERY_DATASET: settings.dataset,
    BIGQUERY_TABLE: settings.table,
    BIGQUERY_ERRORS_TABLE: settings.errorsTable,
    BIGQUERY_DEDUP_VIEW: settings.dedupView,
    PORT: String(port),
  });

  return {
    stack,
    settings,
    gatewayAddress: stack.endpoints.gateway,
    get gateway() {
      return currentGateway;
    },
    get function() {
      return currentFunction;
    },
    get pubsub() {
      return currentPubSub;
    },
    functionLogs,
    async restartGateway() {
      const next = startProcess(
        'gateway',
        process.execPath,
        [...GATEWAY_NODE_FLAGS, join(repoRoot(), 'dist/gateway/main.js')],
        {env: processEnv(settings.gatewayPort), cwd: repoRoot()},
      );
      replacements.add(next);
      await waitUntilReady(
        next,
        () => answersHttp2(settings.gatewayPort),
        READY_TIMEOUT_MS,
      );
      currentGateway = next;
      return next;
    },
    async restartFunction() {
      const root = repoRoot();
      const next = startProcess(
        'function',
        process.execPath,
        [
          join(
            root,
            'node_modules/@google-cloud/functions-framework/build/src/main.js',
          ),
          `--source=${join(root, 'dist/functions/index.js')}`,
          '--target=ingestBatch',
          '--signature-type=cloudevent',
          `--port=${settings.functionPort}`,
        ],
        {env: processEnv(settings.functionPort), cwd: root},
      );
      replacements.add(next);
      collectLogs(next, functionLogs);
      await waitUntilReady(
        next,
        () => httpAnswers(`http://127.0.0.1:${settings.functionPort}/`),
        READY_TIMEOUT_MS,
      );
      currentFunction = next;
      return next;
    },
    async killPubSub() {
      const managed = currentPubSub.process;
      if (managed === undefined) throw new Error('no emulator process');
      managed.signal('SIGKILL');
      await managed.exited;
      // The leader may go first; the java grandchild holds the port.
      managed.signal('SIGKILL');
      await untilPortFree(settings.pubsubPort);
    },
    async startPubSub() {
      const next = await startPubSubEmulator({
        port: settings.pubsubPort,
        projectId: settings.projectId,
      });
      replacements.add(next);
      currentPubSub = next;
      await createPubSubResources(settings, stack.endpoints.function);
    },
    async stop() {
      for (const part of replacements) await part.stop();
      await stack.stop();
    },
  };
}

function collectLogs(
  managed: ManagedProcess,
  into: Record<string, unknown>[],
): void {
  let rest = '';
  managed.child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed === 'object' && parsed !== null) {
          into.push(parsed as Record<string, unknown>);
        }
      } catch {
        // Not every line is ours: the framework prints plain text too.
      }
    }
  });
}

async function httpAnswers(url: string): Promise<boolean> {
  const response = await fetch(url, {signal: AbortSignal.timeout(1_000)});
  await response.body?.cancel();
  return true;
}

/** True once a gRPC health check of the gateway answers SERVING. */
async function answersHttp2(port: number): Promise<boolean> {
  return (await gatewayHealth(`127.0.0.1:${port}`)) === 'SERVING';
}

async function untilPortFree(port: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const taken = await httpAnswers(`http://127.0.0.1:${port}/`).catch(
      () => false,
    );
    if (!taken) return;
    await sleep(100);
  }
  throw new Error(`port ${port} still answers after the kill`);
}

/**
 * The gateway's overall health as grpc.health.v1 reports it, or the error
 * text; a raw unary call, so no proto needs loading.
 */
export function gatewayHealth(address: string): Promise<string> {
  const client = new ItemHandlerClient(address, credentials.createInsecure());
  return new Promise<string>(resolve => {
    client.makeUnaryRequest<Buffer, Buffer>(
      '/grpc.health.v1.Health/Check',
      bytes => bytes,
      bytes => bytes,
      // HealthCheckRequest{service: ''}: the empty message.
      Buffer.alloc(0),
      {deadline: Date.now() + 2_000},
      (err, reply) => {
        client.close();
        // HealthCheckResponse{status: SERVING (1)} is 08 01.
        if (err) resolve(`error ${status[err.code]}`);
        else resolve(reply?.[1] === 1 ? 'SERVING' : 'NOT_SERVING');
      },
    );
  });
}

/** How one attempt of one stream ended, as the client saw it. */
export interface AttemptOutcome {
  key: string;
  code: status;
  details: string;
  /** The items-accepted trailer, when the gateway sent one. */
  itemsAccepted: number | undefined;
  /** Items the client wrote before the stream ended. */
  written: number;
  /** When the status arrived (Date.now()). */
  endedAtMs: number;
}

/** One attempt of a stream. */
export interface AttemptPlan {
  key: string;
  itemCount: number;
  itemAt: (ordinal: number) => ItemMessage;
  /** Sleeps this long after every `paceEvery` items, to stay in flight. */
  paceMs?: number;
  paceEvery?: number;
  /** Deadline of the attempt; the test's bound against a hang. */
  deadlineMs?: number;
}

/** Sends the items of one stream once and resolves with how it ended. */
export function attempt(
  client: ItemHandlerClient,
  plan: AttemptPlan,
): Promise<AttemptOutcome> {
  const metadata = new Metadata();
  metadata.set('idempotency-key', plan.key);
  let written = 0;
  let ended = false;
  return new Promise<AttemptOutcome>(resolve => {
    const call = client.stream(
      metadata,
      {deadline: Date.now() + (plan.deadlineMs ?? 60_000)},
      () => {},
    );
    call.on('status', ({code, details, metadata: trailer}) => {
      ended = true;
      const [accepted] = trailer.get(ITEMS_ACCEPTED_TRAILER);
      resolve({
        key: plan.key,
        code,
        details,
        itemsAccepted: accepted === undefined ? undefined : Number(accepted),
        written,
        endedAtMs: Date.now(),
      });
    });
    call.on('error', () => {});
    void (async () => {
      for (let ordinal = 0; ordinal < plan.itemCount; ordinal++) {
        if (ended || call.destroyed) return;
        const flushed = call.write(plan.itemAt(ordinal));
        written++;
        if (!flushed) {
          await new Promise<void>(resolve => {
            const done = () => {
              call.off('drain', done);
              call.off('close', done);
              resolve();
            };
            call.on('drain', done);
            call.on('close', done);
          });
        }
        const every = plan.paceEvery ?? 1;
        if (plan.paceMs !== undefined && (ordinal + 1) % every === 0) {
          await sleep(plan.paceMs);
        }
      }
      if (!ended && !call.destroyed) call.end();
    })();
  });
}

/** Items of the stream the gateway has acknowledged: a prefix. */
export function acknowledgedCount(
  outcome: AttemptOutcome,
  itemCount: number,
): number {
  if (outcome.code === status.OK) return itemCount;
  return outcome.itemsAccepted ?? 0;
}

/** Statuses a client may retry the stream after. */
export const RETRYABLE = new Set<status>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
  status.INTERNAL,
  status.CANCELLED,
]);

/**
 * Sends the stream again with the same key until an attempt succeeds or
 * `maxAttempts` ran out; the last outcome tells which.
 */
export async function retryUntilOk(
  address: string,
  plan: AttemptPlan,
  maxAttempts = 20,
): Promise<AttemptOutcome[]> {
  const outcomes: AttemptOutcome[] = [];
  for (let n = 1; n <= maxAttempts; n++) {
    const client = new ItemHandlerClient(address, credentials.createInsecure());
    const outcome = await attempt(client, {...plan, paceMs: undefined});
    client.close();
    outcomes.push(outcome);
    if (outcome.code === status.OK || !RETRYABLE.has(outcome.code)) break;
    await sleep(Math.min(2_000, 200 * n));
  }
  return outcomes;
}

/** Every (stream id, item index) of the dedup view with its copies there. */
export async function viewCopies(
  fault: FaultStack,
): Promise<Map<string, number>> {
  const {dataset, dedupView} = fault.settings;
  const [rows] = (await fault.stack.bigqueryClient.query(
    `SELECT stream_id, item_index FROM \`${dataset}.${dedupView}\``,
  )) as [{stream_id: string; item_index: number}[], ...unknown[]];
  const copies = new Map<string, number>();
  for (const row of rows) {
    const key = itemKey(row.stream_id, Number(row.item_index));
    copies.set(key, (copies.get(key) ?? 0) + 1);
  }
  return copies;
}

/** Rows of the items table itself, copies included. */
export async function tableRowCount(fault: FaultStack): Promise<number> {
  const {dataset, table} = fault.settings;
  const [rows] = (await fault.stack.bigqueryClient.query(
    `SELECT COUNT(*) AS n FROM \`${dataset}.${table}\``,
  )) as [{n: number}[], ...unknown[]];
  return Number(rows[0]?.n ?? 0);
}

/** An item's identity as text: stream id, '#', ordinal. */
export function itemKey(streamId: string, ordinal: number): string {
  return `${streamId}#${ordinal}`;
}

function streamOf(key: string): string {
  return key.slice(0, key.lastIndexOf('#'));
}

/** What the client knows of one stream after a test's attempts. */
export interface StreamRecord {
  key: string;
  /** Items the stream has; every attempt sends the same ones. */
  itemCount: number;
  /** The longest prefix any attempt had acknowledged. */
  acknowledged: number;
}

/** Folds attempts of streams into one record per stream. */
export function records(
  itemCounts: Map<string, number>,
  outcomes: Iterable<AttemptOutcome>,
): StreamRecord[] {
  const acknowledged = new Map<string, number>();
  for (const outcome of outcomes) {
    const count = itemCounts.get(outcome.key) ?? 0;
    acknowledged.set(
      outcome.key,
      Math.max(
        acknowledged.get(outcome.key) ?? 0,
        acknowledgedCount(outcome, count),
      ),
    );
  }
  return [...itemCounts].map(([key, itemCount]) => ({
    key,
    itemCount,
    acknowledged: acknowledged.get(key) ?? 0,
  }));
}

/** What the view showed once the acknowledged items were all there. */
export interface Ledger {
  /** Acknowledged items missing from the view. */
  missing: string[];
  /** Items the view holds more than once. */
  duplicates: string[];
  /** Items of the test's streams in the view at ordinals never sent. */
  unknown: string[];
  /** Items stored, acknowledged or not. */
  stored: number;
  acknowledged: number;
}

/**
 * Waits, bounded, until every acknowledged item is in the view, then
 * compares the view with what the client knows. Items sent but never
 * acknowledged may be there or not; both are correct.
 */
export async function settleLedger(
  fault: FaultStack,
  streams: StreamRecord[],
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<Ledger> {
  const acknowledged = streams.flatMap(s =>
    Array.from({length: s.acknowledged}, (_, i) => itemKey(s.key, i)),
  );
  const known = new Set(
    streams.flatMap(s =>
      Array.from({length: s.itemCount}, (_, i) => itemKey(s.key, i)),
    ),
  );
  const streamIds = new Set(streams.map(s => s.key));
  const deadline = Date.now() + timeoutMs;
  let copies = await viewCopies(fault);
  while (acknowledged.some(key => !copies.has(key)) && Date.now() < deadline) {
    await sleep(1_000);
    copies = await viewCopies(fault);
  }
  const ours = [...copies].filter(([key]) => known.has(key));
  return {
    missing: acknowledged.filter(key => !copies.has(key)),
    duplicates: ours.filter(([, n]) => n > 1).map(([key]) => key),
    unknown: [...copies.keys()].filter(
      key => streamIds.has(streamOf(key)) && !known.has(key),
    ),
    stored: ours.length,
    acknowledged: acknowledged.length,
  };
}

/** A small item: createdAt with microseconds, a payload naming it. */
export function smallItem(ordinal: number, payloadBytes = 32): ItemMessage {
  const payload = Buffer.alloc(payloadBytes, ordinal % 251);
  payload.write(`#${ordinal}#`.slice(0, payloadBytes));
  return {createdAt: '2026-03-04T05:06:07.123456Z', payload};
}

/** A gRPC client of the gateway; close it when done. */
export function gatewayClient(address: string): ItemHandlerClient {
  return new ItemHandlerClient(address, credentials.createInsecure());
}
