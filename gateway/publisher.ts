/**
 * The Pub/Sub side of the gateway: a BatchSink that publishes each batch as
 * one message, retrying transient failures within the publish timeout.
 *
 * It calls google.pubsub.v1.Publisher/Publish through grpc-js directly
 * rather than through @google-cloud/pubsub's Topic.publishMessage. The
 * gateway has already batched, so the library's batching, flow control and
 * retry were all switched off, and what was left cost more CPU per item
 * than the whole gateway besides: per-call set-up, a protobufjs copy of the
 * envelope and the garbage collection that copy provoked. The measured
 * difference is in docs/benchmark.md. Credentials and channel options are
 * the ones the library's transport uses (google-gax): TLS with Google
 * application default credentials against the service, plaintext without
 * credentials against an emulator.
 */
import {setTimeout as sleep} from 'node:timers/promises';
import {
  Client,
  credentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import {GoogleAuth} from 'google-auth-library';
import type {EncodedBatch} from '../envelope/codec.js';
import {BufferPool, IDLE_BUFFERS_MAX} from '../runtime/buffer-pool.js';
import type {Logger} from '../runtime/logger.js';
import type {BatchSink} from './batcher.js';
import {
  decodePublishResponse,
  encodePublishRequest,
  PUBLISH_METHOD,
  REQUEST_OVERHEAD_MAX_BYTES,
} from './publish-wire.js';

/** The service's global endpoint, as the client library defaults to. */
const PUBSUB_ENDPOINT = 'pubsub.googleapis.com:443';
/** OAuth scopes the client library requests for Pub/Sub. */
const PUBSUB_SCOPES = [
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/pubsub',
];
/**
 * Channel options as the client library sets them: no message size cap of
 * grpc-js's own (Pub/Sub enforces its 10 MB request limit), keepalive pings
 * so an idle instance notices a dead connection, and a reconnect back-off
 * starting at one second.
 */
const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  'grpc.initial_reconnect_backoff_ms': 1_000,
  'grpc.keepalive_time_ms': 300_000,
  'grpc.keepalive_timeout_ms': 20_000,
};

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
  /** Largest envelope the batcher makes (BATCH_MAX_BYTES). */
  batchMaxBytes: number;
  logger: Logger;
}

/** Publishes batches to a Pub/Sub topic, one message each. */
export class PubSubSink implements BatchSink {
  private readonly client: Client;
  private readonly topicPath: string;
  /** Sent with every call; lets the service route by topic. */
  private readonly metadata = new Metadata();
  /** Request buffers, reused for the reasons given in buffer-pool.ts. */
  private readonly requests: BufferPool;

  constructor(private readonly options: PubSubSinkOptions) {
    this.topicPath = `projects/${options.projectId}/topics/${options.topic}`;
    this.requests = new BufferPool(
      options.batchMaxBytes + REQUEST_OVERHEAD_MAX_BYTES,
      IDLE_BUFFERS_MAX,
    );
    this.metadata.set(
      'x-goog-request-params',
      `topic=${encodeURIComponent(this.topicPath)}`,
    );
    const emulator = options.emulatorHost;
    this.client = new Client(
      emulator ?? PUBSUB_ENDPOINT,
      emulator === undefined
        ? serviceCredentials()
        : credentials.createInsecure(),
      CHANNEL_OPTIONS,
    );
  }

  /**
   * Publishes until Pub/Sub accepts the batch, a non-retryable error
   * occurs, or the publish timeout has passed.
   */
  async publish(batch: EncodedBatch): Promise<string> {
    const deadlineMs = Date.now() + this.options.publishTimeoutMs;
    // Encoded once, before the first await, so the caller's envelope is
    // no longer read once this returns; every attempt sends these bytes.
    const request = encodePublishRequest(
      this.topicPath,
      batch.data,
      batch.attributes,
      bytes => this.requests.take(bytes),
    );
    let delayMs = RETRY_FIRST_DELAY_MS;

    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.call(request, deadlineMs);
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
    } finally {
      // Safe once the last call has ended: grpc-js frames (copies) a
      // message in microtasks right after the call gets its channel
      // config, so the copy is done before any status can arrive, and a
      // call that ends before that never reads the message at all.
      this.requests.give(request);
    }
  }

  /** Closes the channel; calls still in flight fail with CANCELLED. */
  async close(): Promise<void> {
    this.client.close();
  }

  /** One Publish call; resolves with the message id Pub/Sub assigned. */
  private call(request: Buffer, deadlineMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        PUBLISH_METHOD,
        passThrough,
        decodePublishResponse,
        request,
        this.metadata,
        {deadline: deadlineMs},
        (err: ServiceError | null, ids?: string[]) => {
          if (err !== null) {
            reject(err);
          } else if (ids?.length === 1 && ids[0] !== undefined) {
            resolve(ids[0]);
          } else {
            // The request held one message; anything else is not an
            // acceptance the gateway can vouch for.
            reject(
              new Error(
                `Pub/Sub answered one message with ${ids?.length ?? 0} ids`,
              ),
            );
          }
        },
      );
    });
  }
}

/** The request is encoded before the call, so each attempt reuses it. */
function passThrough(request: Buffer): Buffer {
  return request;
}

/** TLS plus the OAuth token of application default credentials per call. */
function serviceCredentials(): ChannelCredentials {
  const auth = new GoogleAuth({scopes: PUBSUB_SCOPES});
  return credentials.combineChannelCredentials(
    credentials.createSsl(),
    credentials.createFromGoogleCredential({
      // grpc-js copies a plain object of headers into the call's metadata;
      // google-auth-library hands out a Headers instance.
      getRequestHeaders: async (url?: string) => {
        const client = await auth.getClient();
        const headers = await client.getRequestHeaders(url);
        return Object.fromEntries(headers.entries());
      },
    }),
  );
}

function grpcCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) {
    return undefined;
  }
  return typeof err.code === 'number' ? err.code : undefined;
}
