/**
 * The whole pipeline on one machine: both emulators, every resource, the
 * function and the gateway, started in order and stopped in reverse. Used by
 * `npm run local`, the demo and the end-to-end tests.
 */
import {join} from 'node:path';
import {PubSub} from '@google-cloud/pubsub';
import {BigQuery} from '@google-cloud/bigquery';
import {ensureTables} from '../functions/tables.js';
import {emulatorAuthClient} from '../runtime/emulator-auth.js';
import {
  startBigQueryEmulator,
  startPubSubEmulator,
  type Emulator,
} from './emulators.js';
import {GATEWAY_NODE_FLAGS} from '../gateway/node-flags.js';
import {repoRoot} from './paths.js';
import {
  isListening,
  isPortFree,
  startProcess,
  waitUntilReady,
  type ManagedProcess,
} from './processes.js';
import type {LocalSettings} from './settings.js';

/** A running stack; stop() ends everything it started. */
export interface RunningStack {
  settings: LocalSettings;
  endpoints: {
    gateway: string;
    function: string;
    pubsub: string;
    bigquery: string;
  };
  gateway: ManagedProcess;
  function: ManagedProcess;
  pubsub: Emulator;
  bigquery: Emulator;
  /** A BigQuery client for the stack's emulator, for queries. */
  bigqueryClient: BigQuery;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

/** A port already taken: the message names it and the variable to change. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/**
 * Starts the stack. On any failure, whatever was already started is
 * stopped before the error propagates, so a failed start leaves nothing.
 */
export async function startStack(
  settings: LocalSettings,
  options: {say?: (line: string) => void; echoLogs?: boolean} = {},
): Promise<RunningStack> {
  const say = options.say ?? (() => {});
  const echo = options.echoLogs ?? false;
  await assertPortsFree(settings);
  const started: {stop(): Promise<void>}[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop();
  };

  try {
    say('starting the Pub/Sub and BigQuery emulators');
    const [pubsub, bigquery] = await Promise.all([
      startPubSubEmulator({
        port: settings.pubsubPort,
        projectId: settings.projectId,
      }),
      startBigQueryEmulator({
        port: settings.bigqueryPort,
        grpcPort: settings.bigqueryGrpcPort,
        projectId: settings.projectId,
      }),
    ]);
    started.push(pubsub, bigquery);

    const bigqueryEndpoint = `http://127.0.0.1:${settings.bigqueryPort}`;
    const bigqueryClient = new BigQuery({
      projectId: settings.projectId,
      apiEndpoint: bigqueryEndpoint,
      authClient: emulatorAuthClient(),
    });
    say(`creating dataset ${settings.dataset}, its tables and view`);
    await ensureTables(bigqueryClient, {
      projectId: settings.projectId,
      dataset: settings.dataset,
      table: settings.table,
      errorsTable: settings.errorsTable,
      dedupView: settings.dedupView,
    });

    const env = stackEnvironment(settings, pubsub, bigqueryEndpoint);
    say('starting the function');
    const fn = await startFunction(settings, env, echo);
    started.push(fn);

    say('creating topics and the push subscription');
    // The path only names the CloudEvent's source: the framework derives it
    // from the push URL, so it should be the topic's resource name.
    const functionUrl =
      `http://127.0.0.1:${settings.functionPort}` +
      `/projects/${settings.projectId}/topics/${settings.topic}`;
    await createPubSubResources(settings, functionUrl);

    say('starting the gateway');
    const gateway = await startGateway(settings, env, echo);
    started.push(gateway);

    return {
      settings,
      endpoints: {
        gateway: `127.0.0.1:${settings.gatewayPort}`,
        function: functionUrl,
        pubsub: `127.0.0.1:${settings.pubsubPort}`,
        bigquery: bigqueryEndpoint,
      },
      gateway,
      function: fn,
      pubsub,
      bigquery,
      bigqueryClient,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function stackEnvironment(
  settings: LocalSettings,
  pubsub: Emulator,
  bigqueryEndpoint: string,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    METADATA_SERVER_DETECTION: 'none',
    GOOGLE_CLOUD_PROJECT: settings.projectId,
    PUBSUB_EMULATOR_HOST: `127.0.0.1:${pubsub.port}`,
    PUBSUB_TOPIC: settings.topic,
    BIGQUERY_EMULATOR_HOST: bigqueryEndpoint,
    BIGQUERY_DATASET: settings.dataset,
    BIGQUERY_TABLE: settings.table,
    BIGQUERY_ERRORS_TABLE: settings.errorsTable,
    BIGQUERY_DEDUP_VIEW: settings.dedupView,
  };
}

async function startFunction(
  settings: LocalSettings,
  env: NodeJS.ProcessEnv,
  echo: boolean,
): Promise<ManagedProcess> {
  const root = repoRoot();
  // functions/main.ts serves the framework's own handler (the same push
  // body to CloudEvent conversion as the deployed runtime) on loopback only.
  const fn = startProcess(
    'function',
    process.execPath,
    [join(root, 'dist/functions/main.js')],
    {
      env: {
        ...env,
        PORT: String(settings.functionPort),
        FUNCTION_HOST: '127.0.0.1',
      },
      cwd: root,
      echo,
    },
  );
  await waitUntilReady(
    fn,
    () => isListening(settings.functionPort),
    START_TIMEOUT_MS,
  );
  return fn;
}

async function startGateway(
  settings: LocalSettings,
  env: NodeJS.ProcessEnv,
  echo: boolean,
): Promise<ManagedProcess> {
  const root = repoRoot();
  const gateway = startProcess(
    'gateway',
    process.execPath,
    [...GATEWAY_NODE_FLAGS, join(root, 'dist/gateway/main.js')],
    {env: {...env, PORT: String(settings.gatewayPort)}, cwd: root, echo},
  );
  await waitUntilReady(
    gateway,
    () => isListening(settings.gatewayPort),
    START_TIMEOUT_MS,
  );
  return gateway;
}

/**
 * Creates the topics and subscriptions on the stack's Pub/Sub emulator. The
 * emulator keeps them in memory only, so a test that restarts it calls this
 * again, as an operator would recreate them.
 */
export async function createPubSubResources(
  settings: LocalSettings,
  functionUrl: string,
): Promise<void> {
  const client = new PubSub({
    projectId: settings.projectId,
    apiEndpoint: `127.0.0.1:${settings.pubsubPort}`,
  });
  try {
    const [topic] = await client.createTopic(settings.topic);
    const [deadLetter] = await client.createTopic(settings.deadLetterTopic);
    // Dead-lettered batches are kept on a pull subscription so that nothing
    // Pub/Sub gives up on is lost; an operator replays them from there.
    await deadLetter.createSubscription(settings.deadLetterSubscription);
    await topic.createSubscription(settings.subscription, {
      pushConfig: {pushEndpoint: functionUrl},
      ackDeadlineSeconds: settings.ackDeadlineSeconds,
      retryPolicy: {
        minimumBackoff: {seconds: settings.minRetryDelaySeconds},
        maximumBackoff: {seconds: settings.maxRetryDelaySeconds},
      },
      deadLetterPolicy: {
        deadLetterTopic: deadLetter.name,
        maxDeliveryAttempts: settings.maxDeliveryAttempts,
      },
    });
  } finally {
    await client.close();
  }
}

async function assertPortsFree(settings: LocalSettings): Promise<void> {
  const ports: [string, number][] = [
    ['LOCAL_GATEWAY_PORT', settings.gatewayPort],
    ['LOCAL_FUNCTION_PORT', settings.functionPort],
    ['LOCAL_PUBSUB_PORT', settings.pubsubPort],
    ['LOCAL_BIGQUERY_PORT', settings.bigqueryPort],
    ['LOCAL_BIGQUERY_GRPC_PORT', settings.bigqueryGrpcPort],
  ];
  for (const [variable, port] of ports) {
    if (!(await isPortFree(port))) {
      throw new PortInUseError(
        `port ${port} on 127.0.0.1 is already in use; stop what holds it ` +
          `or choose another with ${variable}=…`,
      );
    }
  }
}
