/**
 * The benchmark's load generator, a process of its own so its CPU is never
 * counted against a design. It sends pre-encoded items.ItemMessage frames
 * (each distinct item encoded once, its bytes reused) over many concurrent
 * streams of one HTTP/2 connection, writing as fast as grpc-js's flow
 * control lets it, and prints one JSON report on stdout when every stream
 * has its reply. Progress goes to stderr as `{"itemsSent": n}` lines.
 *
 * With `warmupItems`, it first sends that many items the same way over the
 * same connection, prints `{"warmedUp":true}` on stderr and waits for
 * SIGUSR1 before the measured load, so the harness reads the server's CPU
 * right at the boundary. The generator warms up in the same process
 * because a cold one sends its first thousands of items slowly and in
 * small writes, which costs the server more per item: with a separate
 * warm-up process, even the bare server (A) measured 19-25 µs/item at
 * 10^4 items against 10-12 at 10^5.
 *
 * Usage: node dist/bench/load-generator.js '<LoadSpec as JSON>'
 */
import {performance} from 'node:perf_hooks';
import {
  credentials,
  Client,
  Metadata,
  type ClientWritableStream,
} from '@grpc/grpc-js';
import {ItemMessage, JoinMessage} from '../generated/items.js';
import {syntheticItem} from '../producer/item-source.js';

/** What to send. */
export interface LoadSpec {
  target: string;
  streams: number;
  items: number;
  payloadBytes: number;
  /** Frames to encode; items cycle through them. */
  distinctItems: number;
  /** Each stream's deadline; the bench also bounds the whole process. */
  streamTimeoutMs: number;
  /** Items sent, unreported, before the measured load (default none). */
  warmupItems?: number;
}

/** The stderr line that says the warm-up is done; SIGUSR1 goes on. */
export const WARMED_UP_LINE = '{"warmedUp":true}';

/** What the load generator prints when done. */
export interface LoadReport {
  itemsSent: number;
  payloadBytesSent: number;
  streamsOk: number;
  /** First few failure messages, for the notes. */
  failures: string[];
  /** Each stream's time from its start to its reply, in milliseconds. */
  streamDurationsMs: number[];
  /** From the first stream's start to the last reply. */
  elapsedMs: number;
  /** This process's own CPU over the run (user plus system). */
  cpuUs: number;
}

const METHOD = '/items.ItemHandler/Stream';
const PROGRESS_INTERVAL_MS = 1_000;

/** Encodes `count` distinct synthetic items of `payloadBytes` each. */
export function encodeFrames(count: number, payloadBytes: number): Buffer[] {
  const spec = {payloadBytes, baseMicros: Date.now() * 1000, seed: 'bench'};
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = ItemMessage.encode(syntheticItem(spec, 0, i)).finish();
    frames.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  }
  return frames;
}

/** Splits `items` over `streams` as evenly as possible. */
export function itemsPerStream(items: number, streams: number): number[] {
  const base = Math.floor(items / streams);
  const extra = items % streams;
  return Array.from({length: streams}, (_, i) => base + (i < extra ? 1 : 0));
}

async function run(spec: LoadSpec): Promise<LoadReport> {
  const frames = encodeFrames(spec.distinctItems, spec.payloadBytes);
  const client = new Client(spec.target, credentials.createInsecure());
  const warmupItems = spec.warmupItems ?? 0;
  if (warmupItems > 0) {
    // The timer also keeps the event loop alive while nothing else does.
    let timer: NodeJS.Timeout | undefined;
    const go = new Promise<void>((resolve, reject) => {
      process.once('SIGUSR1', () => resolve());
      timer = setTimeout(
        () => reject(new Error('no SIGUSR1 after the warm-up')),
        spec.streamTimeoutMs,
      );
    }).finally(() => clearTimeout(timer));
    const warmup = await load(client, frames, {...spec, items: warmupItems});
    if (warmup.streamsOk < spec.streams) {
      throw new Error(`the warm-up failed: ${warmup.failures.join('; ')}`);
    }
    process.stderr.write(`${WARMED_UP_LINE}\n`);
    await go;
  }
  const report = await load(client, frames, spec, true);
  client.close();
  return report;
}

/** Sends spec.items over spec.streams concurrent streams of `client`. */
async function load(
  client: Client,
  frames: readonly Buffer[],
  spec: LoadSpec,
  reportProgress = false,
): Promise<LoadReport> {
  const counters = {itemsSent: 0, payloadBytesSent: 0};
  const ticker = setInterval(() => {
    if (reportProgress) {
      process.stderr.write(
        `${JSON.stringify({itemsSent: counters.itemsSent})}\n`,
      );
    }
  }, PROGRESS_INTERVAL_MS);
  const cpuStart = process.cpuUsage();
  const started = performance.now();

  const results = await Promise.all(
    itemsPerStream(spec.items, spec.streams).map((count, index) =>
      sendStream(client, frames, count, index, spec, counters),
    ),
  );

  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  clearInterval(ticker);
  const failures = results.filter(r => r.error !== undefined);
  return {
    ...counters,
    streamsOk: results.length - failures.length,
    failures: failures.slice(0, 5).map(r => String(r.error)),
    streamDurationsMs: results.map(r => r.durationMs),
    elapsedMs,
    cpuUs: cpu.user + cpu.system,
  };
}

/** Sends one stream's items, waiting for 'drain' whenever write refuses. */
async function sendStream(
  client: Client,
  frames: readonly Buffer[],
  count: number,
  streamIndex: number,
  spec: LoadSpec,
  counters: {itemsSent: number; payloadBytesSent: number},
): Promise<{durationMs: number; error?: string}> {
  const started = performance.now();
  let call: ClientWritableStream<Buffer> | undefined;
  const reply = new Promise<void>((resolve, reject) => {
    call = client.makeClientStreamRequest<Buffer, JoinMessage>(
      METHOD,
      frame => frame,
      bytes => JoinMessage.decode(bytes),
      new Metadata(),
      {deadline: Date.now() + spec.streamTimeoutMs},
      err => (err === null ? resolve() : reject(err)),
    );
  });
  const stream = call;
  if (stream === undefined) throw new Error('no call was made');
  // A failed call rejects `reply` while items are still being written.
  let failed = false;
  reply.catch(() => (failed = true));

  // Streams start at different frames so concurrent streams differ.
  let next = (streamIndex * 7) % frames.length;
  for (let i = 0; i < count && !failed; i++) {
    const frame = frames[next] ?? frames[0];
    if (frame === undefined) throw new Error('no frames');
    next = next + 1 === frames.length ? 0 : next + 1;
    counters.itemsSent++;
    counters.payloadBytesSent += spec.payloadBytes;
    if (!stream.write(frame)) await drained(stream, reply);
  }
  stream.end();

  try {
    await reply;
    return {durationMs: performance.now() - started};
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {durationMs: performance.now() - started, error: message};
  }
}

/** Resolves on 'drain', or as soon as the call has failed. */
function drained(
  stream: ClientWritableStream<Buffer>,
  reply: Promise<void>,
): Promise<void> {
  return new Promise(resolve => {
    stream.once('drain', resolve);
    reply.catch(() => resolve());
  });
}

const isMain = process.argv[1]?.endsWith('load-generator.js') ?? false;
if (isMain) {
  const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
  const report = await run(spec);
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}
