/**
 * The Pub/Sub and BigQuery steps of setup.sh, and the subscription step of
 * deploy.sh, run for real: the installed gcloud and bq CLIs against the
 * emulators, checked afterwards through the client libraries. IAM is not
 * exercised here: the Pub/Sub emulator answers UNIMPLEMENTED to it, and the
 * BigQuery emulator has none (the dry-run tests check the bindings).
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {randomUUID} from 'node:crypto';
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {PubSub} from '@google-cloud/pubsub';
import type {BigQuery} from '@google-cloud/bigquery';
import {bigQueryClient, sharedEmulators} from '../harness/emulators.js';
import {infraPath, runScript} from './scripts.js';

// Each gcloud and bq call takes seconds (Python start-up); setup runs two
// dozen of them.
const STEP_TIMEOUT_MS = 240_000;

const suffix = randomUUID().slice(0, 8);
const names = {
  PUBSUB_TOPIC: `infra-batches-${suffix}`,
  DEAD_LETTER_TOPIC: `infra-dead-${suffix}`,
  DEAD_LETTER_SUBSCRIPTION: `infra-dead-hold-${suffix}`,
  PUSH_SUBSCRIPTION: `infra-push-${suffix}`,
  BIGQUERY_DATASET: `infra_${suffix}`,
};

describe('setup.sh and deploy.sh against the emulators', () => {
  let env: NodeJS.ProcessEnv;
  let pubsub: PubSub;
  let bigquery: BigQuery;
  let projectId: string;

  before(async () => {
    const emulators = await sharedEmulators();
    projectId = emulators.pubsub.projectId;
    const settings = join(mkdtempSync(join(tmpdir(), 'infra-emu-')), 'env');
    writeFileSync(settings, '# names come from the environment\n');
    env = {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME,
      INGEST_SETTINGS_FILE: settings,
      // An own gcloud configuration, so no user account or project leaks in.
      CLOUDSDK_CONFIG: mkdtempSync(join(tmpdir(), 'infra-gcloud-')),
      CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
      CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB: `http://${emulators.pubsub.host}/`,
      // Neither emulator checks tokens; the bq wrapper passes this one on.
      CLOUDSDK_AUTH_ACCESS_TOKEN: 'fake',
      BQ_API: emulators.bigquery.endpoint,
      PROJECT_ID: projectId,
      REGION: 'europe-west1',
      PROJECT_NUMBER: '1',
      ...names,
    };
    pubsub = new PubSub({
      projectId,
      apiEndpoint: emulators.pubsub.host,
      emulatorMode: true,
    });
    bigquery = bigQueryClient(
      emulators.bigquery.endpoint,
      emulators.bigquery.projectId,
    );
  });

  after(async () => {
    await pubsub?.close();
  });

  it(
    'creates the topics, the dead-letter hold and the BigQuery objects, twice without error',
    {timeout: 2 * STEP_TIMEOUT_MS},
    async () => {
      for (const attempt of [1, 2]) {
        const result = await runScript(
          'setup.sh',
          ['--only', 'pubsub,bigquery'],
          env,
        );
        assert.equal(result.code, 0, `run ${attempt}: ${result.stderr}`);
      }

      const [topics] = await pubsub.getTopics();
      const topicNames = topics.map(t => t.name);
      for (const topic of [names.PUBSUB_TOPIC, names.DEAD_LETTER_TOPIC]) {
        assert.ok(topicNames.includes(`projects/${projectId}/topics/${topic}`));
      }
      const [hold] = await pubsub
        .subscription(names.DEAD_LETTER_SUBSCRIPTION)
        .getMetadata();
      assert.equal(
        hold.topic,
        `projects/${projectId}/topics/${names.DEAD_LETTER_TOPIC}`,
      );
      assert.equal(Number(hold.messageRetentionDuration?.seconds), 7 * 86_400);
    },
  );

  it('leaves the items table partitioned by day on created_at, clustered by stream_id, with the schema file', async () => {
    const [metadata] = await bigquery
      .dataset(names.BIGQUERY_DATASET)
      .table('items')
      .getMetadata();

    assert.equal(metadata.timePartitioning?.type, 'DAY');
    assert.equal(metadata.timePartitioning?.field, 'created_at');
    assert.deepEqual(metadata.clustering?.fields, ['stream_id']);
    const schemaFile = JSON.parse(
      readFileSync(infraPath('schema/items.json'), 'utf8'),
    ) as {name: string; type: string; mode: string}[];
    const fields = (metadata.schema?.fields ?? []) as typeof schemaFile;
    assert.deepEqual(
      fields.map(f => `${f.name} ${f.mode}`),
      schemaFile.map(f => `${f.name} ${f.mode}`),
    );
  });

  it('leaves the errors table partitioned by day on failed_at', async () => {
    const [metadata] = await bigquery
      .dataset(names.BIGQUERY_DATASET)
      .table('items_errors')
      .getMetadata();

    assert.equal(metadata.timePartitioning?.field, 'failed_at');
  });

  it('leaves a dedup view that reads the items table', async () => {
    const view = bigquery.dataset(names.BIGQUERY_DATASET).table('items_dedup');
    const [metadata] = await view.getMetadata();

    assert.equal(metadata.type, 'VIEW');
    assert.match(
      metadata.view?.query ?? '',
      new RegExp(`\`${projectId}\\.${names.BIGQUERY_DATASET}\\.items\``),
    );
    const [rows] = await bigquery.query(
      `SELECT COUNT(*) AS n FROM \`${projectId}.${names.BIGQUERY_DATASET}.items_dedup\``,
    );
    assert.equal(Number(rows[0]?.n), 0);
  });

  it(
    'creates the push subscription with OIDC, retry and dead-letter policy, then updates it in place',
    {timeout: STEP_TIMEOUT_MS},
    async () => {
      const url = 'http://127.0.0.1:9';
      const first = await runScript('deploy.sh', ['--only', 'subscription'], {
        ...env,
        FUNCTION_URL: url,
      });
      assert.equal(first.code, 0, first.stderr);
      const second = await runScript('deploy.sh', ['--only', 'subscription'], {
        ...env,
        FUNCTION_URL: url,
        MAX_DELIVERY_ATTEMPTS: '7',
        MIN_RETRY_DELAY_SECONDS: '5',
      });
      assert.equal(second.code, 0, second.stderr);

      const [push] = await pubsub
        .subscription(names.PUSH_SUBSCRIPTION)
        .getMetadata();
      assert.equal(
        push.topic,
        `projects/${projectId}/topics/${names.PUBSUB_TOPIC}`,
      );
      assert.equal(
        push.pushConfig?.pushEndpoint,
        `${url}/projects/${projectId}/topics/${names.PUBSUB_TOPIC}`,
      );
      assert.equal(
        push.pushConfig?.oidcToken?.serviceAccountEmail,
        `ingest-push-invoker@${projectId}.iam.gserviceaccount.com`,
      );
      assert.equal(push.pushConfig?.oidcToken?.audience, url);
      assert.equal(push.ackDeadlineSeconds, 120);
      assert.equal(
        push.deadLetterPolicy?.deadLetterTopic,
        `projects/${projectId}/topics/${names.DEAD_LETTER_TOPIC}`,
      );
      assert.equal(push.deadLetterPolicy?.maxDeliveryAttempts, 7);
      assert.equal(Number(push.retryPolicy?.minimumBackoff?.seconds), 5);
      assert.equal(Number(push.retryPolicy?.maximumBackoff?.seconds), 600);
    },
  );
});
