/**
 * Every setting of the function, declared once. The function resolves them
 * when its module loads, so a bad value stops the instance before it takes a
 * single event; docs/function.md renders the same declarations as a table.
 */
import {
  integer,
  matching,
  oneOf,
  resolveSettings,
  resourceName,
  SettingError,
  type ResolvedSettings,
} from '../runtime/settings.js';
import {LOG_LEVELS} from '../runtime/logger.js';

/** BigQuery refuses an insertAll request larger than this (10 MB). */
export const INSERT_ALL_LIMIT_BYTES = 10 * 1024 * 1024;

/** BigQuery refuses an insertAll request with more rows than this. */
export const INSERT_ALL_LIMIT_ROWS = 50_000;

const MIB = 1024 * 1024;

/**
 * The endpoint of a BigQuery emulator, with its scheme. The client library
 * reads BIGQUERY_EMULATOR_HOST itself and uses it verbatim as its base URL,
 * so a value without `http://` would break it in a way no log would explain;
 * refusing it here turns that into one clear start-up error.
 */
export function emulatorEndpoint(raw: string): string | undefined {
  if (raw === '') return undefined;
  const match =
    /^(https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)(\/bigquery\/v2)?\/?$/.exec(raw);
  if (match?.[1] === undefined) {
    throw new SettingError(
      'must be a URL with a scheme, like http://127.0.0.1:9050 ' +
        '(optionally ending in /bigquery/v2)',
    );
  }
  return match[1];
}

/** The function's settings; the table in docs/function.md is built from it. */
export const FUNCTION_SETTINGS = {
  projectId: {
    env: 'GOOGLE_CLOUD_PROJECT',
    description:
      'Project that holds the dataset. The default is the local ' +
      "emulators' project; a deployment sets it explicitly.",
    default: 'local-project',
    parse: resourceName,
  },
  dataset: {
    env: 'BIGQUERY_DATASET',
    description: 'Dataset of the tables and the view.',
    default: 'ingest',
    parse: resourceName,
  },
  table: {
    env: 'BIGQUERY_TABLE',
    description: 'Table that receives one row per item.',
    default: 'items',
    parse: resourceName,
  },
  errorsTable: {
    env: 'BIGQUERY_ERRORS_TABLE',
    description:
      'Dead-letter table: rows BigQuery rejected and messages that ' +
      'could not be decoded, with the reason.',
    default: 'items_errors',
    parse: resourceName,
  },
  dedupView: {
    env: 'BIGQUERY_DEDUP_VIEW',
    description:
      'View that returns each (stream_id, item_index) once; the ' +
      'function only creates it (local runs and tests), users query it.',
    default: 'items_dedup',
    parse: resourceName,
  },
  emulatorEndpoint: {
    env: 'BIGQUERY_EMULATOR_HOST',
    description:
      'BigQuery emulator base URL with scheme (http://127.0.0.1:9050); ' +
      'unset means the real service. The client library reads the same ' +
      'variable.',
    default: '',
    parse: emulatorEndpoint,
  },
  insertMaxRows: {
    env: 'INSERT_MAX_ROWS',
    description:
      'Most rows in one insertAll request; 500 is what BigQuery ' +
      'recommends for latency.',
    default: '500',
    parse: integer(1, INSERT_ALL_LIMIT_ROWS),
  },
  insertMaxBytes: {
    env: 'INSERT_MAX_BYTES',
    description:
      'Most bytes of JSON in one insertAll request; 9 MiB leaves room ' +
      "under BigQuery's 10 MB limit for the request envelope.",
    default: String(9 * MIB),
    parse: integer(64 * 1024, INSERT_ALL_LIMIT_BYTES),
  },
  insertTimeoutMs: {
    env: 'INSERT_TIMEOUT_MS',
    description:
      'Time one insertAll request, its retries included, may take ' +
      "before it counts as a transient failure. Keep a batch's requests " +
      "well under the push subscription's ack deadline, or Pub/Sub " +
      'redelivers while the first delivery still runs.',
    default: '20000',
    parse: integer(1_000, 300_000),
  },
  insertRetries: {
    env: 'INSERT_RETRIES',
    description:
      'Retries of a transient BigQuery failure inside one delivery ' +
      'before the event fails and Pub/Sub redelivers it.',
    default: '2',
    parse: integer(0, 10),
  },
  envelopeMaxDecodedBytes: {
    env: 'ENVELOPE_MAX_DECODED_BYTES',
    description:
      'Most bytes a gzip batch may inflate to; a larger one is ' +
      "dead-lettered as a poison message. Must be at least the gateway's " +
      'largest batch.',
    default: String(32 * MIB),
    parse: integer(MIB, 256 * MIB),
  },
  deadLetterRawMaxBytes: {
    env: 'DEAD_LETTER_RAW_MAX_BYTES',
    description:
      'Most raw bytes kept in one dead-letter row; the rest is cut ' +
      '(raw_size_bytes keeps the full size) so the dead-letter insert ' +
      'itself stays under the request limit.',
    default: String(MIB),
    parse: integer(0, 4 * MIB),
  },
  logLevel: {
    env: 'LOG_LEVEL',
    description: 'Least severe log level written.',
    default: 'info',
    parse: oneOf(...LOG_LEVELS),
  },
};

/**
 * Settings of `npm run function` (functions/main.ts) only. Deployed, the
 * Cloud Run functions runtime starts the Functions Framework itself, which
 * reads PORT and listens on every interface.
 */
export const LOCAL_SERVER_SETTINGS = {
  port: {
    env: 'PORT',
    description:
      'Port `npm run function` serves on; 8081 keeps it clear of the ' +
      "framework's usual 8080.",
    default: '8081',
    parse: integer(1, 65_535),
  },
  host: {
    env: 'FUNCTION_HOST',
    description:
      'Address `npm run function` listens on; loopback unless a push ' +
      'subscription elsewhere must reach it.',
    default: '127.0.0.1',
    parse: matching(/^[A-Za-z0-9.:-]+$/, 'a host name or IP address'),
  },
};

/** The function's settings, resolved and validated. */
export type FunctionSettings = ResolvedSettings<typeof FUNCTION_SETTINGS>;

/**
 * Resolves every setting from `env`, throwing one SettingError that lists
 * every bad value. Also refuses a combination no single setting can see:
 * a dead-letter row that would not fit in one insert request.
 */
export function resolveFunctionSettings(
  env: NodeJS.ProcessEnv = process.env,
): FunctionSettings {
  const settings = resolveSettings(FUNCTION_SETTINGS, env);
  // Base64 grows raw bytes by a third; leave 64 KiB for the other fields.
  const deadLetterRowBytes =
    Math.ceil(settings.deadLetterRawMaxBytes / 3) * 4 + 64 * 1024;
  if (deadLetterRowBytes > settings.insertMaxBytes) {
    throw new SettingError(
      `DEAD_LETTER_RAW_MAX_BYTES=${settings.deadLetterRawMaxBytes} makes a ` +
        `dead-letter row of up to ${deadLetterRowBytes} bytes, more than ` +
        `INSERT_MAX_BYTES=${settings.insertMaxBytes}`,
    );
  }
  return settings;
}
