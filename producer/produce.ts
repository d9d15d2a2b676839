/**
 * Runs a set of streams concurrently against one gateway and reports
 * progress; the command line (cli.ts), the demo and the tests all use it.
 */
import {performance} from 'node:perf_hooks';
import {setTimeout as sleep} from 'node:timers/promises';
import type {ItemMessage} from '../generated/items.js';
import {connect, type Target} from './connection.js';
import {sendStream, type StreamOutcome} from './stream-sender.js';

/** The items of one stream, by position. */
export interface StreamItems {
  idempotencyKey: string;
  itemCount: number;
  itemAt: (ordinal: number) => ItemMessage;
}

export interface ProduceOptions {
  target: Target;
  streams: StreamItems[];
  /** Items per second over all streams; undefined sends flat out. */
  rateItemsPerSecond?: number;
  maxAttempts: number;
  backoffMs: number;
  attemptTimeoutMs: number;
  /** Called about every progressIntervalMs and once at the end. */
  onProgress?: (progress: Progress) => void;
  progressIntervalMs?: number;
}

/** Counters since the start of the run. */
export interface Progress {
  itemsSent: number;
  bytesSent: number;
  streamsDone: number;
  streamsFailed: number;
  streamsTotal: number;
  elapsedMs: number;
}

/** Sends every stream, all at once, and returns how each ended. */
export async function produce(options: ProduceOptions): Promise<{
  outcomes: StreamOutcome[];
  progress: Progress;
}> {
  const client = connect(options.target);
  const started = performance.now();
  const progress: Progress = {
    itemsSent: 0,
    bytesSent: 0,
    streamsDone: 0,
    streamsFailed: 0,
    streamsTotal: options.streams.length,
    elapsedMs: 0,
  };
  const report = () => {
    progress.elapsedMs = performance.now() - started;
    options.onProgress?.({...progress});
  };
  const ticker = setInterval(report, options.progressIntervalMs ?? 250);
  const pace =
    options.rateItemsPerSecond === undefined
      ? undefined
      : rateLimiter(options.rateItemsPerSecond);

  try {
    const outcomes = await Promise.all(
      options.streams.map(async stream => {
        const result = await sendStream(client, {
          ...stream,
          maxAttempts: options.maxAttempts,
          backoffMs: options.backoffMs,
          attemptTimeoutMs: options.attemptTimeoutMs,
          pace,
          onItemSent: bytes => {
            progress.itemsSent++;
            progress.bytesSent += bytes;
          },
        });
        if (result.ok) progress.streamsDone++;
        else progress.streamsFailed++;
        return result;
      }),
    );
    return {outcomes, progress: {...progress}};
  } finally {
    clearInterval(ticker);
    report();
    client.close();
  }
}

/**
 * A shared pacer: the n-th item overall is due at n / rate seconds after
 * the start. Sleeping only when more than 2 ms ahead keeps timer overhead
 * off the hot path at high rates.
 */
function rateLimiter(itemsPerSecond: number): () => Promise<void> {
  const start = performance.now();
  let scheduled = 0;
  return async () => {
    scheduled++;
    const wait =
      start + (scheduled * 1000) / itemsPerSecond - performance.now();
    if (wait > 2) await sleep(wait);
  };
}
