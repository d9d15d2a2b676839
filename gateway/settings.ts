/**
 * Every setting of the gateway, declared once: its environment variable,
 * default, meaning and validator. `resolveGatewaySettings` reads them all,
 * then checks the rules that tie settings together, so the process either
 * starts with a coherent configuration or refuses to start at all.
 */
import {
  hostPort,
  integer,
  oneOf,
  resolveSettings,
  resourceName,
  SettingError,
  type ResolvedSettings,
} from '../runtime/settings.js';
import {LOG_LEVELS} from '../runtime/logger.js';
import {CONTENT_ENCODINGS} from '../envelope/attributes.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Pub/Sub refuses a publish request over 10 MB; 9 MiB of data leaves room
 * for the attributes and the request's own framing.
 */
export const PUBSUB_MAX_DATA_BYTES = 9 * MiB;

/**
 * Cloud Run ends any request after its timeout, at most 60 minutes; a
 * stream must be able to finish (duration, then its last publish) before.
 */
export const CLOUD_RUN_MAX_REQUEST_MS = 60 * 60 * 1000;

/**
 * Envelope bytes an item costs beyond its payload: field tags, lengths and
 * the four varints. Used to check that any valid item fits a batch alone.
 */
export const ITEM_OVERHEAD_BYTES = 64;

/** The settings of the gateway, in the order the docs list them. */
export const GATEWAY_SETTINGS = {
  port: {
    env: 'PORT',
    description:
      'TCP port the gRPC server listens on (h2c; Cloud Run terminates TLS ' +
      'and sets this variable); 0 picks a free port.',
    default: '8080',
    parse: integer(0, 65_535),
  },
  project: {
    env: 'GOOGLE_CLOUD_PROJECT',
    description: 'Google Cloud project that owns the Pub/Sub topic.',
    parse: resourceName,
  },
  topic: {
    env: 'PUBSUB_TOPIC',
    description: 'Name (not path) of the Pub/Sub topic batches go to.',
    parse: resourceName,
  },
  emulatorHost: {
    env: 'PUBSUB_EMULATOR_HOST',
    description:
      'host:port of a Pub/Sub emulator, spoken to in plaintext without ' +
      'credentials; empty means the real service (pubsub.googleapis.com:443, ' +
      'TLS, application default credentials).',
    default: '',
    parse: (raw: string) => (raw === '' ? undefined : hostPort(raw)),
  },
  logLevel: {
    env: 'LOG_LEVEL',
    description: 'Lowest level logged.',
    default: 'info',
    parse: oneOf(...LOG_LEVELS),
  },
  batchMaxItems: {
    env: 'BATCH_MAX_ITEMS',
    description:
      'A batch closes when it holds this many items. The function writes ' +
      'one batch per BigQuery insert request, for which BigQuery recommends ' +
      'about 500 rows and allows 50,000.',
    default: '500',
    parse: integer(1, 50_000),
  },
  batchMaxBytes: {
    env: 'BATCH_MAX_BYTES',
    description:
      'A batch closes before its envelope (before compression) would pass ' +
      'this size. The default keeps one message, base64-encoded inside a ' +
      'CloudEvent with its attributes, under the 512 KB Eventarc limit of ' +
      'Cloud Run functions (360 KiB becomes 480 KiB of base64); raise it ' +
      'up to 9 MiB (Pub/Sub allows 10 MB) for push delivery.',
    default: String(360 * KiB),
    parse: integer(4 * KiB, PUBSUB_MAX_DATA_BYTES),
  },
  batchMaxDelayMs: {
    env: 'BATCH_MAX_DELAY_MS',
    description:
      'A batch closes this long after its first item arrived, so a slow ' +
      'trickle of items is still published promptly.',
    default: '25',
    parse: integer(0, 10_000),
  },
  batchCompression: {
    env: 'BATCH_COMPRESSION',
    description:
      'Compression of the message data, named in its content-encoding ' +
      'attribute.',
    default: 'identity',
    parse: oneOf(...CONTENT_ENCODINGS),
  },
  publishTimeoutMs: {
    env: 'PUBLISH_TIMEOUT_MS',
    description:
      'How long publishing one batch may take, retries included. Past it, ' +
      'every stream with an item in the batch ends with UNAVAILABLE.',
    default: '10000',
    parse: integer(100, 600_000),
  },
  publishMaxConcurrent: {
    env: 'PUBLISH_MAX_CONCURRENT',
    description:
      'Batches being published at once, per instance. Each holds its ' +
      'envelope and request, about 3 × BATCH_MAX_BYTES; closed batches ' +
      'beyond it wait, holding only their items, and their wait counts ' +
      'towards PUBLISH_TIMEOUT_MS.',
    default: '16',
    parse: integer(1, 1000),
  },
  maxInflightBytes: {
    env: 'GATEWAY_MAX_INFLIGHT_BYTES',
    description:
      'Item bytes received but not yet accepted by Pub/Sub, per instance. ' +
      'Above it the gateway stops reading streams until publishes complete.',
    default: String(64 * MiB),
    parse: integer(1 * MiB, 4096 * MiB),
  },
  maxPayloadBytes: {
    env: 'GATEWAY_MAX_PAYLOAD_BYTES',
    description:
      'Largest item payload; a larger one ends its stream with ' +
      'INVALID_ARGUMENT. Any valid item must fit a batch alone, so it must ' +
      'stay below BATCH_MAX_BYTES.',
    default: String(256 * KiB),
    parse: integer(0, PUBSUB_MAX_DATA_BYTES),
  },
  maxMessageBytes: {
    env: 'GATEWAY_MAX_MESSAGE_BYTES',
    description:
      'Largest gRPC message grpc-js accepts; a larger one ends its stream ' +
      'with RESOURCE_EXHAUSTED from grpc-js. Above the payload limit, so an ' +
      'oversized payload gets the more precise INVALID_ARGUMENT.',
    default: String(512 * KiB),
    parse: integer(1 * KiB, 64 * MiB),
  },
  maxStreams: {
    env: 'GATEWAY_MAX_STREAMS',
    description:
      'Concurrent streams per instance; one more ends at once with ' +
      'RESOURCE_EXHAUSTED. Keep Cloud Run concurrency at or below it.',
    default: '500',
    parse: integer(1, 100_000),
  },
  streamIdleTimeoutMs: {
    env: 'GATEWAY_STREAM_IDLE_TIMEOUT_MS',
    description:
      'A stream that sends nothing for this long ends with ' +
      'DEADLINE_EXCEEDED. Time the gateway itself stops reading ' +
      '(backpressure) does not count.',
    default: '60000',
    parse: integer(100, CLOUD_RUN_MAX_REQUEST_MS),
  },
  maxStreamDurationMs: {
    env: 'GATEWAY_MAX_STREAM_DURATION_MS',
    description:
      'A stream still sending after this long ends with DEADLINE_EXCEEDED. ' +
      'With the publish timeout it must stay below the Cloud Run request ' +
      'timeout (at most 60 minutes; set the service to it).',
    default: String(50 * 60 * 1000),
    parse: integer(1_000, CLOUD_RUN_MAX_REQUEST_MS),
  },
  shutdownGraceMs: {
    env: 'GATEWAY_SHUTDOWN_GRACE_MS',
    description:
      'After SIGTERM, how long the gateway may drain before it exits; ' +
      'Cloud Run kills the instance 10 s after SIGTERM.',
    default: '8000',
    parse: integer(100, 9_500),
  },
  idempotencyKeyMaxLength: {
    env: 'IDEMPOTENCY_KEY_MAX_LENGTH',
    description:
      'Longest idempotency-key metadata value a client may send as its ' +
      'stream id.',
    default: '64',
    parse: integer(1, 256),
  },
} as const;

/** The gateway's resolved settings. */
export type GatewaySettings = ResolvedSettings<typeof GATEWAY_SETTINGS>;

/**
 * Resolves every setting from `env` and checks the rules between them.
 * Throws one SettingError naming every problem found.
 */
export function resolveGatewaySettings(
  env: NodeJS.ProcessEnv = process.env,
): GatewaySettings {
  const settings = resolveSettings(GATEWAY_SETTINGS, env);
  const problems = crossSettingProblems(settings);
  if (problems.length > 0) throw new SettingError(problems.join('; '));
  return settings;
}

function crossSettingProblems(settings: GatewaySettings): string[] {
  const s = GATEWAY_SETTINGS;
  const problems: string[] = [];
  const largestItem =
    settings.maxPayloadBytes +
    ITEM_OVERHEAD_BYTES +
    settings.idempotencyKeyMaxLength;

  if (largestItem > settings.batchMaxBytes) {
    problems.push(
      `${s.maxPayloadBytes.env}=${settings.maxPayloadBytes} with ` +
        `${s.idempotencyKeyMaxLength.env}=` +
        `${settings.idempotencyKeyMaxLength} makes an item of up to ` +
        `${largestItem} bytes, over ${s.batchMaxBytes.env}=` +
        `${settings.batchMaxBytes}: every valid item must fit a batch`,
    );
  }
  if (settings.maxMessageBytes <= settings.maxPayloadBytes) {
    problems.push(
      `${s.maxMessageBytes.env}=${settings.maxMessageBytes} must be above ` +
        `${s.maxPayloadBytes.env}=${settings.maxPayloadBytes}, since a ` +
        'message carries a payload and its createdAt',
    );
  }
  if (settings.maxInflightBytes < 2 * settings.batchMaxBytes) {
    problems.push(
      `${s.maxInflightBytes.env}=${settings.maxInflightBytes} must be at ` +
        `least twice ${s.batchMaxBytes.env}=${settings.batchMaxBytes}, so ` +
        'one batch can fill while another is published',
    );
  }
  const longestCallMs =
    settings.maxStreamDurationMs + settings.publishTimeoutMs;
  if (longestCallMs >= CLOUD_RUN_MAX_REQUEST_MS) {
    problems.push(
      `${s.maxStreamDurationMs.env}=${settings.maxStreamDurationMs} plus ` +
        `${s.publishTimeoutMs.env}=${settings.publishTimeoutMs} must stay ` +
        `below Cloud Run's request timeout of ${CLOUD_RUN_MAX_REQUEST_MS} ms`,
    );
  }
  return problems;
}
