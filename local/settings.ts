/**
 * Settings of `npm run local` and `npm run demo`. The resource names are the
 * same variables the gateway, the function and infra/ read, and their
 * defaults and the delivery policy come from infra/lib.sh, so one
 * environment describes the whole stack, here and deployed.
 */
import {
  integer,
  resourceName,
  resolveSettings,
  type ResolvedSettings,
} from '../runtime/settings.js';
import {infraDefault} from './infra-defaults.js';

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
    default: infraDefault('PUBSUB_TOPIC'),
    description: 'Topic the gateway publishes batches to.',
    parse: resourceName,
  },
  deadLetterTopic: {
    env: 'DEAD_LETTER_TOPIC',
    default: infraDefault('DEAD_LETTER_TOPIC'),
    description:
      'Where Pub/Sub moves a batch the function failed on too often.',
    parse: resourceName,
  },
  deadLetterSubscription: {
    env: 'DEAD_LETTER_SUBSCRIPTION',
    default: infraDefault('DEAD_LETTER_SUBSCRIPTION'),
    description: 'Pull subscription that keeps dead-lettered batches.',
    parse: resourceName,
  },
  subscription: {
    env: 'PUSH_SUBSCRIPTION',
    default: infraDefault('PUSH_SUBSCRIPTION'),
    description: 'Push subscription that delivers batches to the function.',
    parse: resourceName,
  },
  ackDeadlineSeconds: {
    env: 'ACK_DEADLINE_SECONDS',
    default: infraDefault('ACK_DEADLINE_SECONDS'),
    description: 'How long Pub/Sub waits for the function to answer a push.',
    parse: integer(10, 600),
  },
  minRetryDelaySeconds: {
    env: 'MIN_RETRY_DELAY_SECONDS',
    default: infraDefault('MIN_RETRY_DELAY_SECONDS'),
    description: 'First redelivery delay after the function failed a batch.',
    parse: integer(0, 600),
  },
  maxRetryDelaySeconds: {
    env: 'MAX_RETRY_DELAY_SECONDS',
    default: infraDefault('MAX_RETRY_DELAY_SECONDS'),
    description: 'Longest redelivery delay during a long outage.',
    parse: integer(0, 600),
  },
  maxDeliveryAttempts: {
    env: 'MAX_DELIVERY_ATTEMPTS',
    default: infraDefault('MAX_DELIVERY_ATTEMPTS'),
    description: 'Deliveries before a batch moves to the dead-letter topic.',
    parse: integer(5, 100),
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
