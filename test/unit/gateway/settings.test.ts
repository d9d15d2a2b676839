import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {SettingError, settingsTable} from '../../../runtime/settings.js';
import {
  GATEWAY_SETTINGS,
  resolveGatewaySettings,
} from '../../../gateway/settings.js';
import {repoRoot} from '../../../local/paths.js';

const REQUIRED = {GOOGLE_CLOUD_PROJECT: 'my-project', PUBSUB_TOPIC: 'items'};

function refusal(env: Record<string, string>): string {
  try {
    resolveGatewaySettings({...REQUIRED, ...env});
  } catch (err) {
    assert.ok(err instanceof SettingError);
    return err.message;
  }
  assert.fail(`${JSON.stringify(env)} was accepted`);
}

describe('gateway settings', () => {
  it('resolves the documented defaults given the required settings', () => {
    const settings = resolveGatewaySettings(REQUIRED);

    assert.equal(settings.port, 8080);
    assert.equal(settings.emulatorHost, undefined);
    assert.equal(settings.batchMaxItems, 500);
    assert.equal(settings.batchMaxBytes, 360 * 1024);
    assert.equal(settings.batchCompression, 'identity');
    assert.equal(settings.shutdownGraceMs, 8000);
  });

  it('refuses to start without the project and the topic', () => {
    const message = refusal({GOOGLE_CLOUD_PROJECT: '', PUBSUB_TOPIC: ''});

    assert.match(message, /GOOGLE_CLOUD_PROJECT is required/);
    assert.match(message, /PUBSUB_TOPIC is required/);
  });

  it('reads the emulator host when given', () => {
    const settings = resolveGatewaySettings({
      ...REQUIRED,
      PUBSUB_EMULATOR_HOST: '127.0.0.1:8085',
    });

    assert.equal(settings.emulatorHost, '127.0.0.1:8085');
  });

  const invalid: [string, string][] = [
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', 'http'],
    ['GOOGLE_CLOUD_PROJECT', 'has space'],
    ['PUBSUB_TOPIC', 'projects/p/topics/t'],
    ['PUBSUB_EMULATOR_HOST', 'localhost'],
    ['LOG_LEVEL', 'verbose'],
    ['BATCH_MAX_ITEMS', '0'],
    ['BATCH_MAX_ITEMS', '50001'],
    ['BATCH_MAX_BYTES', String(9 * 1024 * 1024 + 1)],
    ['BATCH_MAX_BYTES', '1.5'],
    ['BATCH_MAX_DELAY_MS', '-1'],
    ['BATCH_COMPRESSION', 'zstd'],
    ['PUBLISH_TIMEOUT_MS', '99'],
    ['PUBLISH_MAX_CONCURRENT', '0'],
    ['GATEWAY_MAX_INFLIGHT_BYTES', '1000'],
    ['GATEWAY_MAX_PAYLOAD_BYTES', '-5'],
    ['GATEWAY_MAX_MESSAGE_BYTES', '10'],
    ['GATEWAY_MAX_STREAMS', '0'],
    ['GATEWAY_STREAM_IDLE_TIMEOUT_MS', 'soon'],
    ['GATEWAY_MAX_STREAM_DURATION_MS', String(61 * 60 * 1000)],
    ['GATEWAY_SHUTDOWN_GRACE_MS', '10000'],
    ['IDEMPOTENCY_KEY_MAX_LENGTH', '0'],
  ];
  for (const [env, value] of invalid) {
    it(`refuses ${env}=${value} naming the variable and the value`, () => {
      const message = refusal({[env]: value});

      assert.ok(
        message.startsWith(`${env}=${JSON.stringify(value)} is invalid: `),
        message,
      );
    });
  }

  it('has an invalid case above for every setting', () => {
    const covered = new Set(invalid.map(([env]) => env));
    for (const spec of Object.values(GATEWAY_SETTINGS)) {
      assert.ok(covered.has(spec.env), spec.env);
    }
  });

  const conflicting: [string, Record<string, string>, RegExp][] = [
    [
      'a payload limit that does not fit a batch',
      {GATEWAY_MAX_PAYLOAD_BYTES: String(360 * 1024)},
      /GATEWAY_MAX_PAYLOAD_BYTES=368640 .* over BATCH_MAX_BYTES=368640/,
    ],
    [
      'a message limit not above the payload limit',
      {GATEWAY_MAX_MESSAGE_BYTES: String(256 * 1024)},
      /GATEWAY_MAX_MESSAGE_BYTES=262144 must be above/,
    ],
    [
      'an in-flight cap under two batches',
      {
        GATEWAY_MAX_INFLIGHT_BYTES: String(1024 * 1024),
        BATCH_MAX_BYTES: String(600 * 1024),
      },
      /GATEWAY_MAX_INFLIGHT_BYTES=1048576 must be at least twice/,
    ],
    [
      'a duration that with the publish timeout reaches Cloud Run’s limit',
      {
        GATEWAY_MAX_STREAM_DURATION_MS: String(3_595_000),
        PUBLISH_TIMEOUT_MS: '5000',
      },
      /must stay below Cloud Run's request timeout/,
    ],
  ];
  for (const [what, env, expected] of conflicting) {
    it(`refuses ${what}`, () => {
      assert.match(refusal(env), expected);
    });
  }

  it('is documented in docs/gateway.md exactly as declared', () => {
    const docs = readFileSync(join(repoRoot(), 'docs', 'gateway.md'), 'utf8');

    assert.ok(
      docs.includes(settingsTable(GATEWAY_SETTINGS)),
      'docs/gateway.md does not hold the current settings table; paste ' +
        'the output of settingsTable(GATEWAY_SETTINGS)',
    );
  });
});
