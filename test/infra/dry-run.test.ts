/**
 * Dry runs of setup.sh, deploy.sh and teardown.sh: what they would run is
 * what a real project would get, so the properties that matter are checked
 * on the printed commands. gcloud, bq and npm are replaced by recorders that
 * fail, so a dry run that runs anything fails its test.
 */
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
  bqCommands,
  commandsStarting,
  flag,
  hasFlag,
  parseCommands,
  recordingPath,
  runScript,
} from './scripts.js';

const PROJECT = 'demo-project';
const NUMBER = '123456789';
const AGENT = `serviceAccount:service-${NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`;
const account = (id: string) =>
  `serviceAccount:${id}@${PROJECT}.iam.gserviceaccount.com`;

function dryRunEnv(extra: NodeJS.ProcessEnv = {}) {
  const {path, calls} = recordingPath();
  const settings = join(mkdtempSync(join(tmpdir(), 'infra-settings-')), 'env');
  writeFileSync(settings, '# empty: defaults only\n');
  const env: NodeJS.ProcessEnv = {
    PATH: path,
    HOME: tmpdir(),
    INGEST_SETTINGS_FILE: settings,
    PROJECT_ID: PROJECT,
    REGION: 'europe-west1',
    PROJECT_NUMBER: NUMBER,
    ...extra,
  };
  return {env, calls};
}

async function dryRun(
  script: string,
  args: string[] = [],
  extra: NodeJS.ProcessEnv = {},
) {
  const {env, calls} = dryRunEnv(extra);
  const result = await runScript(script, ['--dry-run', ...args], env);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(existsSync(calls), false, 'a dry run ran a command');
  return parseCommands(result.stdout);
}

/** Every IAM binding as resource, role and member. */
function bindings(commands: string[][]) {
  return commands
    .filter(words => words.includes('add-iam-policy-binding'))
    .map(words => ({
      command: words
        .slice(0, words.indexOf('add-iam-policy-binding') + 1)
        .filter(w => !w.startsWith('--')),
      resource: words.filter(w => !w.startsWith('-')).at(-1),
      role: flag(words, 'role'),
      member: flag(words, 'member'),
    }));
}

describe('setup.sh --dry-run', () => {
  it('binds each account on its one resource and never on the project', async () => {
    const commands = await dryRun('setup.sh');

    const found = bindings(commands).map(
      b => `${b.command.join(' ')} ${b.resource} ${b.role} ${b.member}`,
    );
    assert.deepEqual(found.sort(), [
      `bq add-iam-policy-binding ${PROJECT}:ingest.items roles/bigquery.dataEditor ${account('ingest-function')}`,
      `bq add-iam-policy-binding ${PROJECT}:ingest.items_errors roles/bigquery.dataEditor ${account('ingest-function')}`,
      `gcloud iam service-accounts add-iam-policy-binding ingest-push-invoker@${PROJECT}.iam.gserviceaccount.com roles/iam.serviceAccountTokenCreator ${AGENT}`,
      `gcloud pubsub topics add-iam-policy-binding ingest-batches roles/pubsub.publisher ${account('ingest-gateway')}`,
      `gcloud pubsub topics add-iam-policy-binding ingest-batches-dead-letter roles/pubsub.publisher ${AGENT}`,
    ]);
    assert.equal(commandsStarting(commands, 'gcloud', 'projects').length, 0);
  });

  it('creates the items table partitioned by day on created_at and clustered by stream_id', async () => {
    const commands = await dryRun('setup.sh', ['--only', 'bigquery']);

    const tables = bqCommands(commands, 'mk').filter(w => hasFlag(w, 'table'));
    const items = tables.find(w => w.at(-1) === `${PROJECT}:ingest.items`);
    assert.ok(items, 'no bq mk for the items table');
    assert.equal(flag(items, 'time_partitioning_type'), 'DAY');
    assert.equal(flag(items, 'time_partitioning_field'), 'created_at');
    assert.equal(flag(items, 'clustering_fields'), 'stream_id');
    assert.match(flag(items, 'schema') ?? '', /infra\/schema\/items\.json$/);

    const errors = tables.find(
      w => w.at(-1) === `${PROJECT}:ingest.items_errors`,
    );
    assert.ok(errors, 'no bq mk for the errors table');
    assert.equal(flag(errors, 'time_partitioning_field'), 'failed_at');
  });

  it('creates the dedup view in standard SQL over the items table', async () => {
    const commands = await dryRun('setup.sh', ['--only', 'bigquery'], {
      BIGQUERY_DATASET: 'other',
    });

    const view = bqCommands(commands, 'mk').find(w => flag(w, 'view'));
    assert.ok(view, 'no bq mk --view');
    assert.equal(view.at(-1), `${PROJECT}:other.items_dedup`);
    assert.equal(flag(view, 'use_legacy_sql'), 'false');
    assert.match(flag(view, 'view') ?? '', /`demo-project\.other\.items`/);
    assert.doesNotMatch(flag(view, 'view') ?? '', /\$\{/);
  });

  it('keeps dead-lettered batches in a subscription on the dead-letter topic', async () => {
    const commands = await dryRun('setup.sh', ['--only', 'pubsub']);

    const [hold] = commandsStarting(
      commands,
      'gcloud',
      'pubsub',
      'subscriptions',
      'create',
    );
    assert.ok(hold);
    assert.equal(flag(hold, 'topic'), 'ingest-batches-dead-letter');
    assert.equal(flag(hold, 'message-retention-duration'), '7d');
  });

  it('refuses to start without PROJECT_ID and names the setting', async () => {
    const {env, calls} = dryRunEnv({PROJECT_ID: ''});
    const result = await runScript('setup.sh', ['--dry-run'], env);

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /PROJECT_ID is not set/);
    assert.equal(result.stdout, '');
    assert.equal(existsSync(calls), false);
  });

  it('refuses an unknown step', async () => {
    const {env} = dryRunEnv();
    const result = await runScript('setup.sh', ['--only', 'nope'], env);

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /unknown step 'nope'/);
  });
});

describe('deploy.sh --dry-run', () => {
  it('deploys the gateway over HTTP/2 with gRPC probes and no unauthenticated access', async () => {
    const commands = await dryRun('deploy.sh');

    const [gateway] = commandsStarting(commands, 'gcloud', 'run', 'deploy');
    assert.ok(gateway);
    assert.equal(gateway[3], 'ingest-gateway');
    assert.ok(hasFlag(gateway, 'use-http2'));
    assert.ok(hasFlag(gateway, 'no-allow-unauthenticated'));
    assert.ok(!hasFlag(gateway, 'allow-unauthenticated'));
    assert.equal(
      flag(gateway, 'service-account'),
      'ingest-gateway@demo-project.iam.gserviceaccount.com',
    );
    assert.match(flag(gateway, 'startup-probe') ?? '', /^grpc\.port=8080,/);
    assert.match(flag(gateway, 'liveness-probe') ?? '', /^grpc\.port=8080,/);
    assert.equal(flag(gateway, 'concurrency'), '100');
    assert.equal(flag(gateway, 'max-instances'), '10');
  });

  it('sets the request timeout to the stream duration, the last publish and the margin', async () => {
    const commands = await dryRun('deploy.sh', ['--only', 'gateway'], {
      GATEWAY_MAX_STREAM_DURATION_MS: '600000',
      PUBLISH_TIMEOUT_MS: '10500',
      GATEWAY_TIMEOUT_MARGIN_SECONDS: '20',
    });

    const [gateway] = commandsStarting(commands, 'gcloud', 'run', 'deploy');
    assert.ok(gateway);
    assert.equal(flag(gateway, 'timeout'), '631s');
    assert.match(
      flag(gateway, 'set-env-vars') ?? '',
      /GATEWAY_MAX_STREAM_DURATION_MS=600000,PUBLISH_TIMEOUT_MS=10500/,
    );
  });

  it('refuses a stream duration Cloud Run cannot serve', async () => {
    const {env} = dryRunEnv({GATEWAY_MAX_STREAM_DURATION_MS: '3590000'});
    const result = await runScript('deploy.sh', ['--dry-run'], env);

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /over Cloud Run's 3600 s request limit/);
  });

  it('deploys the function on Node 24 behind IAM, called only by the invoker account', async () => {
    const commands = await dryRun('deploy.sh');

    const [fn] = commandsStarting(commands, 'gcloud', 'functions', 'deploy');
    assert.ok(fn);
    assert.ok(hasFlag(fn, 'gen2'));
    assert.equal(flag(fn, 'runtime'), 'nodejs24');
    assert.equal(flag(fn, 'entry-point'), 'ingestBatch');
    assert.ok(hasFlag(fn, 'trigger-http'));
    assert.ok(hasFlag(fn, 'no-allow-unauthenticated'));
    assert.equal(
      flag(fn, 'service-account'),
      'ingest-function@demo-project.iam.gserviceaccount.com',
    );

    const invokers = bindings(commands).filter(
      b => b.role === 'roles/run.invoker',
    );
    assert.deepEqual(invokers, [
      {
        command: ['gcloud', 'run', 'services', 'add-iam-policy-binding'],
        resource: 'ingest-batch',
        role: 'roles/run.invoker',
        member: account('ingest-push-invoker'),
      },
    ]);
  });

  it('pushes with an OIDC token, exponential retry and a dead-letter policy', async () => {
    const commands = await dryRun('deploy.sh', ['--only', 'subscription'], {
      FUNCTION_URL: 'https://fn.example.run.app',
    });

    const [push] = commandsStarting(
      commands,
      'gcloud',
      'pubsub',
      'subscriptions',
      'create',
    );
    assert.ok(push);
    assert.equal(push[4], 'ingest-batches-to-function');
    assert.equal(flag(push, 'topic'), 'ingest-batches');
    assert.equal(
      flag(push, 'push-endpoint'),
      'https://fn.example.run.app/projects/demo-project/topics/ingest-batches',
    );
    assert.equal(
      flag(push, 'push-auth-service-account'),
      'ingest-push-invoker@demo-project.iam.gserviceaccount.com',
    );
    assert.equal(
      flag(push, 'push-auth-token-audience'),
      'https://fn.example.run.app',
    );
    assert.equal(flag(push, 'ack-deadline'), '120');
    assert.equal(flag(push, 'min-retry-delay'), '10s');
    assert.equal(flag(push, 'max-retry-delay'), '600s');
    assert.equal(flag(push, 'dead-letter-topic'), 'ingest-batches-dead-letter');
    assert.equal(flag(push, 'max-delivery-attempts'), '10');
  });

  it('lets the Pub/Sub service agent pull from the push subscription to dead-letter', async () => {
    const commands = await dryRun('deploy.sh', ['--only', 'iam']);

    const subscriber = bindings(commands).filter(
      b => b.role === 'roles/pubsub.subscriber',
    );
    assert.deepEqual(subscriber, [
      {
        command: [
          'gcloud',
          'pubsub',
          'subscriptions',
          'add-iam-policy-binding',
        ],
        resource: 'ingest-batches-to-function',
        role: 'roles/pubsub.subscriber',
        member: AGENT,
      },
    ]);
  });

  it('refuses a function timeout longer than the ack deadline', async () => {
    const {env} = dryRunEnv({
      FUNCTION_TIMEOUT_SECONDS: '300',
      ACK_DEADLINE_SECONDS: '120',
    });
    const result = await runScript('deploy.sh', ['--dry-run'], env);

    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /FUNCTION_TIMEOUT_SECONDS=300 is above ACK_DEADLINE_SECONDS=120/,
    );
  });

  it('caps BATCH_MAX_BYTES at the Eventarc event limit when none is set', async () => {
    const commands = await dryRun('deploy.sh', [], {DELIVERY: 'eventarc'});

    const [gateway] = commandsStarting(commands, 'gcloud', 'run', 'deploy');
    assert.ok(gateway);
    assert.match(
      flag(gateway, 'set-env-vars') ?? '',
      /(^|,)BATCH_MAX_BYTES=368640(,|$)/,
    );
    const [fn] = commandsStarting(commands, 'gcloud', 'functions', 'deploy');
    assert.ok(fn);
    assert.equal(flag(fn, 'trigger-topic'), 'ingest-batches');
    assert.equal(
      flag(fn, 'trigger-service-account'),
      'ingest-push-invoker@demo-project.iam.gserviceaccount.com',
    );
    assert.ok(hasFlag(fn, 'retry'));
    assert.ok(!hasFlag(fn, 'trigger-http'));
    assert.equal(
      commandsStarting(commands, 'gcloud', 'pubsub', 'subscriptions', 'create')
        .length,
      0,
    );
  });

  it('gives the Eventarc subscription the same retry and dead-letter policy', async () => {
    const commands = await dryRun('deploy.sh', ['--only', 'subscription'], {
      DELIVERY: 'eventarc',
    });

    const [update] = commandsStarting(
      commands,
      'gcloud',
      'pubsub',
      'subscriptions',
      'update',
    );
    assert.ok(update);
    assert.equal(
      flag(update, 'dead-letter-topic'),
      'ingest-batches-dead-letter',
    );
    assert.equal(flag(update, 'max-delivery-attempts'), '10');
    assert.equal(flag(update, 'min-retry-delay'), '10s');
  });

  it('refuses a BATCH_MAX_BYTES over the Eventarc limit in Eventarc mode', async () => {
    const {env, calls} = dryRunEnv({
      DELIVERY: 'eventarc',
      BATCH_MAX_BYTES: '400000',
    });
    const result = await runScript('deploy.sh', ['--dry-run'], env);

    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /BATCH_MAX_BYTES must be an integer from 4096 to 368640/,
    );
    assert.equal(existsSync(calls), false);
  });

  it('deploys a given image without building one', async () => {
    const commands = await dryRun('deploy.sh', ['--image', 'r/p/img:7']);

    assert.equal(commandsStarting(commands, 'gcloud', 'builds').length, 0);
    const [gateway] = commandsStarting(commands, 'gcloud', 'run', 'deploy');
    assert.ok(gateway);
    assert.equal(flag(gateway, 'image'), 'r/p/img:7');
  });

  it('lets each of GATEWAY_INVOKERS call the gateway, and no one else', async () => {
    const commands = await dryRun('deploy.sh', ['--only', 'iam'], {
      GATEWAY_INVOKERS: 'user:ana@example.com,group:producers@example.com',
    });

    const members = bindings(commands)
      .filter(b => b.resource === 'ingest-gateway')
      .map(b => `${b.role} ${b.member}`);
    assert.deepEqual(members, [
      'roles/run.invoker user:ana@example.com',
      'roles/run.invoker group:producers@example.com',
    ]);
  });
});

describe('settings', () => {
  it('takes the environment over the settings file over the default', async () => {
    const {env} = dryRunEnv();
    const file = env.INGEST_SETTINGS_FILE ?? '';
    writeFileSync(file, 'GATEWAY_SERVICE=from-file\nFUNCTION_NAME=fn-file\n');
    env.FUNCTION_NAME = 'fn-env';

    const result = await runScript('deploy.sh', ['--dry-run'], env);

    assert.equal(result.code, 0, result.stderr);
    const commands = parseCommands(result.stdout);
    const [gateway] = commandsStarting(commands, 'gcloud', 'run', 'deploy');
    const [fn] = commandsStarting(commands, 'gcloud', 'functions', 'deploy');
    assert.equal(gateway?.[3], 'from-file');
    assert.equal(fn?.[3], 'fn-env');
  });

  it('refuses a settings file that INGEST_SETTINGS_FILE names but does not exist', async () => {
    const {env} = dryRunEnv({INGEST_SETTINGS_FILE: '/nonexistent/settings'});
    const result = await runScript('setup.sh', ['--dry-run'], env);

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /does not exist/);
  });
});

describe('teardown.sh', () => {
  it('prints the deletion of everything in a dry run', async () => {
    const commands = await dryRun('teardown.sh');

    const deleted = commands
      .filter(w => w.includes('delete') || w.includes('rm'))
      .map(w => w.slice(0, 4).join(' '));
    assert.ok(deleted.includes('gcloud functions delete ingest-batch'));
    assert.ok(deleted.includes('gcloud run services delete'));
    assert.ok(deleted.includes('gcloud pubsub topics delete'));
    assert.equal(bqCommands(commands, 'rm').length, 1);
  });

  it('keeps the dataset, dead letters and images with --keep-data', async () => {
    const commands = await dryRun('teardown.sh', ['--keep-data']);

    assert.equal(bqCommands(commands, 'rm').length, 0);
    assert.equal(
      commandsStarting(
        commands,
        'gcloud',
        'artifacts',
        'repositories',
        'delete',
      ).length,
      0,
    );
    const subscriptionDeletes = commandsStarting(
      commands,
      'gcloud',
      'pubsub',
      'subscriptions',
      'delete',
    ).map(w => w[4]);
    assert.deepEqual(subscriptionDeletes, ['ingest-batches-to-function']);
  });

  it('refuses to delete data without --yes when there is no terminal to ask', async () => {
    const {env, calls} = dryRunEnv();
    const result = await runScript('teardown.sh', [], env);

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--yes/);
    assert.equal(existsSync(calls), false);
  });
});
