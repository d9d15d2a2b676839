/**
 * Runs one design at one point: a fresh server process (so its peak RSS
 * belongs to this point alone), the load generator against it, and the
 * server's and emulator's CPU read from /proc before and after the load.
 */
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {repoRoot} from '../local/paths.js';
import {startProcess} from '../local/processes.js';
import {
  WARMED_UP_LINE,
  type LoadReport,
  type LoadSpec,
} from './load-generator.js';
import {percentile} from './percentiles.js';
import {
  cpuUsBetween,
  groupCpuSample,
  type CpuSample,
  processCpuSample,
  processPeakRssBytes,
} from './proc-stats.js';
import type {Design, Measurement, Point} from './results-model.js';
import {startServer} from './server-runner.js';

/**
 * Time for log lines the server wrote to reach us through the pipe before
 * they are counted; without it the batches of the last moments of a load
 * are counted in the next, or not at all.
 */
const OUTPUT_SETTLE_MS = 500;

/** What a point run needs beyond the design and the point. */
export interface PointContext {
  projectId: string;
  /** The shared emulator for C and D: its address and process group. */
  pubsub?: {host: string; pgrp: number};
  /** Creates a topic for one run and returns a function deleting it. */
  createTopic(name: string): Promise<() => Promise<void>>;
  /** Longest a point may run; past it the point is skipped. */
  timeCapMs: number;
  /** Most items a design may send at one point, when it is capped. */
  itemCaps: Partial<Record<Design, number>>;
  /** Frames the load generator encodes and cycles through. */
  distinctItems: number;
  /** Payload bytes sent, unmeasured, before the measured load. */
  warmupBytes: number;
  /** Called with items sent so far, about once a second. */
  onProgress(itemsSent: number, items: number): void;
  /** Extra node flags for the server, e.g. to profile it. */
  nodeFlags?: string[];
}

/** Measures `design` at `point`; never throws for a design's failure. */
export async function runPoint(
  design: Design,
  point: Point,
  context: PointContext,
): Promise<Measurement> {
  const cap = context.itemCaps[design];
  const items = cap === undefined ? point.items : Math.min(cap, point.items);
  const base: Measurement = {
    design,
    point: point.id,
    outcome: 'failed',
    payloadBytes: point.payloadBytes,
    streams: point.streams,
    items,
  };
  if (items < point.items) {
    base.note = `capped at ${items} of ${point.items} items`;
  }
  const usesPubSub = design === 'C' || design === 'D';
  if (usesPubSub && context.pubsub === undefined) {
    return {...base, note: 'no Pub/Sub emulator'};
  }

  const topic = `bench-${design}-${point.id.replace(/\W+/g, '-')}-${Date.now()}`;
  const deleteTopic = usesPubSub
    ? await context.createTopic(topic)
    : async () => {};
  const server = await startServer({
    design,
    pubsubHost: usesPubSub ? context.pubsub?.host : undefined,
    projectId: context.projectId,
    topic,
    nodeFlags: context.nodeFlags,
  });

  let warmupItems = 0;
  try {
    // Two unmeasured loads of the same size at every point, so the 10^4,
    // 10^5 and 10^6 points differ only in what they measure: the first
    // over a connection of its own that then closes (a server's first
    // connection stays dearer per item however long it runs: 10^4 items
    // after 20 MiB on it cost A 18-19 and B 27-28 µs/item, after this
    // extra load 15-16), the second sent by the measuring generator itself
    // on its own connection (load-generator.ts says why).
    warmupItems = Math.ceil(context.warmupBytes / point.payloadBytes);
    const warmupLoad: LoadSpec = {
      target: server.target,
      streams: point.streams,
      items: warmupItems,
      payloadBytes: point.payloadBytes,
      distinctItems: context.distinctItems,
      streamTimeoutMs: context.timeCapMs,
    };
    if (warmupItems > 0) {
      const first = await runLoad(
        warmupLoad,
        {...context, onProgress: () => {}},
        async () => {},
      );
      if ('timedOut' in first) throw new Error('the warm-up timed out');
    }
    const emulatorPgrp = usesPubSub ? context.pubsub?.pgrp : undefined;
    let before:
      | {
          cpu: CpuSample | undefined;
          emulator: CpuSample | undefined;
          batches: number;
        }
      | undefined;

    const load = await runLoad(
      {...warmupLoad, items, warmupItems},
      context,
      async () => {
        // The warm-up's last log lines arrive before counting starts.
        if (warmupItems > 0) await sleep(OUTPUT_SETTLE_MS);
        before = {
          cpu: processCpuSample(server.pid),
          emulator:
            emulatorPgrp === undefined
              ? undefined
              : groupCpuSample(emulatorPgrp),
          batches: server.batchesLogged(),
        };
      },
    );
    const cpuAfter = processCpuSample(server.pid);
    const peakRssBytes = processPeakRssBytes(server.pid);
    const emulatorAfter =
      emulatorPgrp === undefined ? undefined : groupCpuSample(emulatorPgrp);
    await sleep(OUTPUT_SETTLE_MS);
    const batches = server.batchesLogged() - (before?.batches ?? 0);
    const summary = await server.stop();

    if ('timedOut' in load) {
      return {
        ...base,
        outcome: 'skipped',
        note: `did not finish ${items} items within ${context.timeCapMs / 1000} s`,
      };
    }
    const cpuBefore = before?.cpu;
    const emulatorBefore = before?.emulator;
    if (cpuBefore === undefined || cpuAfter === undefined) {
      return {...base, note: 'the server exited during the load'};
    }
    const failed = load.streamsOk < point.streams;
    const seconds = load.elapsedMs / 1000;
    const messages =
      design === 'D'
        ? // D's count runs from its start, both warm-ups included.
          (summary?.published ?? 2 * warmupItems) - 2 * warmupItems
        : design === 'A'
          ? undefined
          : batches;
    return {
      ...base,
      outcome: failed ? 'failed' : 'ok',
      note: failed
        ? `${point.streams - load.streamsOk} streams failed: ${load.failures.join('; ')}`
        : base.note,
      durationMs: load.elapsedMs,
      itemsPerSecond: load.itemsSent / seconds,
      megabytesPerSecond: load.payloadBytesSent / 1e6 / seconds,
      streamP50Ms: percentile(load.streamDurationsMs, 50),
      streamP99Ms: percentile(load.streamDurationsMs, 99),
      serverCpuUsPerItem: cpuUsBetween(cpuBefore, cpuAfter) / load.itemsSent,
      serverPeakRssMb:
        peakRssBytes === undefined ? undefined : peakRssBytes / 2 ** 20,
      emulatorCpuUsPerItem:
        emulatorBefore === undefined || emulatorAfter === undefined
          ? undefined
          : cpuUsBetween(emulatorBefore, emulatorAfter) / load.itemsSent,
      messagesPerMillionItems:
        messages === undefined ? undefined : (messages / load.itemsSent) * 1e6,
      loadGeneratorCpuUsPerItem: load.cpuUs / load.itemsSent,
    };
  } catch (err) {
    await server.stop();
    return {...base, note: err instanceof Error ? err.message : String(err)};
  } finally {
    await deleteTopic().catch(() => undefined);
  }
}

/**
 * Runs the load generator; `{timedOut}` if it passes the time cap.
 * `beforeMeasured` runs once the warm-up is done (or before the generator
 * starts, without one), and the measured load waits for it.
 */
async function runLoad(
  spec: LoadSpec,
  context: PointContext,
  beforeMeasured: () => Promise<void>,
): Promise<LoadReport | {timedOut: true}> {
  const script = join(repoRoot(), 'dist', 'bench', 'load-generator.js');
  if ((spec.warmupItems ?? 0) === 0) await beforeMeasured();
  const generator = startProcess('load generator', process.execPath, [
    script,
    JSON.stringify(spec),
  ]);
  let stdout = '';
  generator.child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  generator.child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === WARMED_UP_LINE) {
        void beforeMeasured().then(() => generator.signal('SIGUSR1'));
        continue;
      }
      const match = /^\{"itemsSent":(\d+)\}$/.exec(line.trim());
      if (match !== null) context.onProgress(Number(match[1]), spec.items);
    }
  });

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    generator.signal('SIGKILL');
  }, context.timeCapMs);
  const code = await generator.exited;
  clearTimeout(timer);
  await generator.stop();

  if (timedOut) return {timedOut: true};
  if (code !== 0) {
    throw new Error(
      `load generator exited with ${code}: ${generator.recentOutput.join(' | ')}`,
    );
  }
  return JSON.parse(stdout) as LoadReport;
}
