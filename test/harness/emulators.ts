/**
 * The emulators of a test run. `npm test` starts one Pub/Sub and one
 * BigQuery emulator for the whole run (test/run.ts) and passes them on
 * through the environment; a test that pauses or kills an emulator starts its
 * own with startPubSubEmulator or startBigQueryEmulator instead, so it cannot
 * disturb other tests. The emulators' gaps against the real services, and how
 * the tests cope with each, are listed in docs/emulator-gaps.md.
 */
import {BigQuery} from '@google-cloud/bigquery';
import {emulatorAuthClient} from '../../runtime/emulator-auth.js';
import {
  EMULATOR_PROJECT,
  startBigQueryEmulator,
  startPubSubEmulator,
  type BigQueryEmulator,
  type Emulator,
  type PubSubEmulator,
} from '../../local/emulators.js';

export {
  EMULATOR_PROJECT,
  bigQueryEmulatorBinary,
  startBigQueryEmulator,
  startPubSubEmulator,
  type BigQueryEmulator,
  type Emulator,
  type PubSubEmulator,
} from '../../local/emulators.js';

/** Environment variable through which test/run.ts shares its instances. */
export const SHARED_BIGQUERY_ENV = 'TEST_BIGQUERY_ENDPOINT';

let shared: Promise<{pubsub: PubSubEmulator; bigquery: BigQueryEmulator}>;

/**
 * The emulators of this test run: those test/run.ts started, named in the
 * environment, or else a pair started now and stopped when the process exits.
 */
export function sharedEmulators(): Promise<{
  pubsub: PubSubEmulator;
  bigquery: BigQueryEmulator;
}> {
  shared ??= resolveShared();
  return shared;
}

async function resolveShared() {
  const pubsubHost = process.env.PUBSUB_EMULATOR_HOST;
  const bigqueryEndpoint = process.env[SHARED_BIGQUERY_ENV];
  if (pubsubHost !== undefined && bigqueryEndpoint !== undefined) {
    return {
      pubsub: external(pubsubHost, {host: pubsubHost}),
      bigquery: external(bigqueryEndpoint, {endpoint: bigqueryEndpoint}),
    };
  }
  const [pubsub, bigquery] = await Promise.all([
    startPubSubEmulator(),
    startBigQueryEmulator(),
  ]);
  // Nothing stops these before the test file ends; unreferenced, they let
  // it exit, and the exit hook of local/processes.ts kills them then.
  pubsub.process?.unref();
  bigquery.process?.unref();
  process.env.PUBSUB_EMULATOR_HOST = pubsub.host;
  return {pubsub, bigquery};
}

/**
 * A BigQuery client for the emulator that fails fast: no retries, so an
 * emulator fault shows as a test failure at once, not minutes later.
 */
export function bigQueryClient(endpoint: string, projectId: string) {
  return new BigQuery({
    projectId,
    apiEndpoint: endpoint,
    authClient: emulatorAuthClient(),
    autoRetry: false,
    maxRetries: 0,
  });
}

/** An emulator some other process owns: this one must not control it. */
function external<T extends object>(address: string, fields: T): T & Emulator {
  const refuse = () => {
    throw new Error(
      `the shared emulator at ${address} belongs to the test runner; ` +
        'start your own instance to pause or stop one',
    );
  };
  const port = Number(address.split(':').at(-1));
  return {
    ...fields,
    projectId: EMULATOR_PROJECT,
    port,
    process: undefined,
    pause: refuse,
    resume: refuse,
    stop: async () => {},
  };
}
