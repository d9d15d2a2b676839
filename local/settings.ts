/**
 * Settings of `npm run local` and `npm run demo`. The resource names are the
 * same variables the gateway and the function read, so one environment
 * describes the whole stack.
 */
import {
  integer,
  resourceName,
  resolveSettings,
  type ResolvedSettings,
} from '../runtime/settings.js';

const port = integer(1, 65_535);

export const LOCAL_SETTINGS = {
  gatewayPort: {
    env: 'LOCAL_GATEWAY_PORT',
    default: '8080',
    description: 'Port of the gateway (gRPC, h2c) on 127.0.0.1.',
    parse: port,
  },
  functionPort: {
    env: 'LOCAL_FUNCTION_PORT',
    default: '8081',
    description: 'Port of the function (HTTP, push endpoint) on 127.0.0.1.',
    parse: port,
  },
  pubsubPort: {
    env: 'LOCAL_PUBSUB_PORT',
    default: '8085',
    description: 'Port of the Pub/Sub emulator on 127.0.0.1.',
    parse: port,
  },
  bigqueryPort: {
    env: 'LOCAL_BIGQUERY_PORT',
    default: '9050',
    description: 'REST port of the BigQuery emulator on 127.0.0.1.',
    parse: port,
  },
  bigqueryGrpcPort: {
    env: 'LOCAL_BIGQUERY_GRPC_PORT',
    default: '9060',
    description: 'gRPC port of the BigQuery emulator on 127.0.0.1.',
    parse: port,
  },
  projectId: {
    env: 'GOOGLE_CLOUD_PROJECT',
    default: 'local-project',
    description: 'Project id the emulators and both services use.',
    parse: resourceName,
  },
  topic: {
    env: 'PUBSUB_TOPIC',
    default: 'items',
    description: 'Topic the gateway publishes batches to.',
    parse: resourceName,
  },
  deadLetterTopic: {
    env: 'PUBSUB_DEAD_LETTER_TOPIC',
    default: 'items-dead-letter',
    description:
      'Where Pub/Sub moves a batch the function failed on too often.',
    parse: resourceName,
  },
  subscription: {
    env: 'PUBSUB_SUBSCRIPTION',
    default: 'items-to-function',
    description: 'Push subscription that delivers batches to the function.',
    parse: resourceName,
  },
  dataset: {
    env: 'BIGQUERY_DATASET',
    default: 'ingest',
    description: 'BigQuery dataset of the tables and the view.',
    parse: resourceName,
  },
  table: {
    env: 'BIGQUERY_TABLE',
    default: 'items',
    description: 'Table the function inserts rows into.',
    parse: resourceName,
  },
  errorsTable: {
    env: 'BIGQUERY_ERRORS_TABLE',
    default: 'items_errors',
    description:
      'Dead-letter table for rows and messages that cannot be stored.',
    parse: resourceName,
  },
  dedupView: {
    env: 'BIGQUERY_DEDUP_VIEW',
    default: 'items_dedup',
    description: 'View returning each item once; the one to query.',
    parse: resourceName,
  },
} as const;

export type LocalSettings = ResolvedSettings<typeof LOCAL_SETTINGS>;

export function resolveLocalSettings(
  env: NodeJS.ProcessEnv = process.env,
): LocalSettings {
  return resolveSettings(LOCAL_SETTINGS, env);
}
