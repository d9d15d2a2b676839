/**
 * The Pub/Sub side of the gateway: a BatchSink that publishes each batch as
 * one message with @google-cloud/pubsub, retrying transient failures within
 * the publish timeout.
 */
import {setTimeout as sleep} from 'node:timers/promises';
import {PubSub, type Topic} from '@google-cloud/pubsub';
import {status} from '@grpc/grpc-js';
import type {EncodedBatch} from '../envelope/codec.js';
import type {Logger} from '../runtime/logger.js';
import type {BatchSink} from './batcher.js';

/**
 * Codes after which a publish may succeed if tried again: the set the
 * client library's own publish retry uses.
 */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  status.ABORTED,
  status.CANCELLED,
  status.DEADLINE_EXCEEDED,
  status.INTERNAL,
  status.RESOURCE_EXHAUSTED,
  status.UNAVAILABLE,
  status.UNKNOWN,
]);

/** First wait between attempts; it doubles up to RETRY_MAX_DELAY_MS. */
const RETRY_FIRST_DELAY_MS = 50;
const RETRY_MAX_DELAY_MS = 1_000;

/** How to reach the topic. */
export interface PubSubSinkOptions {
  projectId: string;
  topic: string;
  /** host:port of an emulator, or undefined for the real service. */
  emulatorHost: string | undefined;
  /** Total time one batch may take, all attempts included. */
  publishTimeoutMs: number;
  logger: Logger;
}

/** Publishes batches to a Pub/Sub topic, one message each. */
export class PubSubSink implements BatchSink {
  private readonly client: PubSub;
  private readonly topic: Topic;

  constructor(private readonly options: PubSubSinkOptions) {
    // Given an endpoint that is not *.googleapis.com, the library talks
    // plain h2c without credentials, as the emulator expects.
    this.client = new PubSub({
      projectId: options.projectId,
      apiEndpoint: options.emulatorHost,
    });
    this.topic = this.client.topic(options.topic, {
      // The gateway has already batched: each publishMessage call must go
      // out at once as its own request. maxMessages 1 makes every message
      // fill a library batch by itself, so it is sent immediately, and the
      // delay never applies; maxBytes at the library's ceiling (9 MiB)
      // keeps a large envelope from being split off or held back.
      batching: {maxMessages: 1, maxBytes: 9 * 1024 * 1024, maxMilliseconds: 1},
      // One attempt per call with its own deadline; the retries happen in
      // publish() below so each is logged and all stay within the publish
      // timeout. The library's default would retry for up to 10 minutes.
      gaxOpts: {timeout: options.publishTimeoutMs, maxRetries: 0},
      // Flow control is the gateway's own (flow-control.ts), by bytes of
      // items; the library's is off.
      flowControlOptions: {},
    });
  }

  /**
   * Publishes until Pub/Sub accepts the batch, a non-retryable error
   * occurs, or the publish timeout has passed.
   */
  async publish(batch: EncodedBatch): Promise<string> {
    const deadlineMs = Date.now() + this.options.publishTimeoutMs;
    let delayMs = RETRY_FIRST_DELAY_MS;

    for (let attempt = 1; ; attempt++) {
      try {
        return await this.topic.publishMessage({
          data: batch.data,
          attributes: batch.attributes,
        });
      } catch (err) {
        const code = grpcCode(err);
        const remainingMs = deadlineMs - Date.now();
        const retryable = code === undefined || RETRYABLE_CODES.has(code);
        if (!retryable || remainingMs <= delayMs) throw err;

        this.options.logger.warn(
          {attempt, code, delayMs, remainingMs, err},
          'publish retry',
        );
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, RETRY_MAX_DELAY_MS);
      }
    }
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    await this.client.close();
  }
}

function grpcCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) {
    return undefined;
  }
  return typeof err.code === 'number' ? err.code : undefined;
}
