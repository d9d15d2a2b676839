import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {SettingError, settingsTable} from '../../../runtime/settings.js';
import {
  FUNCTION_SETTINGS,
  LOCAL_SERVER_SETTINGS,
  resolveFunctionSettings,
} from '../../../functions/settings.js';
import {repoRoot} from '../../../local/paths.js';

describe('function settings', () => {
  it('resolves the documented defaults from an empty environment', () => {
    const settings = resolveFunctionSettings({});

    assert.equal(settings.projectId, 'local-project');
    assert.equal(settings.dataset, 'ingest');
    assert.equal(settings.table, 'items');
    assert.equal(settings.errorsTable, 'items_errors');
    assert.equal(settings.dedupView, 'items_dedup');
    assert.equal(settings.emulatorEndpoint, undefined);
    assert.equal(settings.insertMaxRows, 500);
    assert.equal(settings.insertMaxBytes, 9 * 1024 * 1024);
    assert.equal(settings.logLevel, 'info');
  });

  it('takes an emulator endpoint with its scheme, minus a trailing slash', () => {
    const settings = resolveFunctionSettings({
      BIGQUERY_EMULATOR_HOST: 'http://127.0.0.1:9050/',
    });

    assert.equal(settings.emulatorEndpoint, 'http://127.0.0.1:9050');
  });

  it('takes the /bigquery/v2 form the library also accepts', () => {
    const settings = resolveFunctionSettings({
      BIGQUERY_EMULATOR_HOST: 'http://localhost:9050/bigquery/v2',
    });

    assert.equal(settings.emulatorEndpoint, 'http://localhost:9050');
  });

  for (const value of ['127.0.0.1:9050', 'http://127.0.0.1:9050/other']) {
    it(`refuses BIGQUERY_EMULATOR_HOST=${value}`, () => {
      assert.throws(
        () => resolveFunctionSettings({BIGQUERY_EMULATOR_HOST: value}),
        (err: unknown) =>
          err instanceof SettingError &&
          err.message.includes('BIGQUERY_EMULATOR_HOST'),
      );
    });
  }

  it('refuses INSERT_MAX_BYTES above the 10 MB insertAll limit', () => {
    assert.throws(
      () => resolveFunctionSettings({INSERT_MAX_BYTES: '10485761'}),
      /INSERT_MAX_BYTES="10485761" is invalid/,
    );
  });

  it('names every bad setting in one error', () => {
    assert.throws(
      () =>
        resolveFunctionSettings({
          INSERT_MAX_ROWS: '0',
          LOG_LEVEL: 'loud',
          BIGQUERY_TABLE: 'no spaces allowed',
        }),
      (err: unknown) =>
        err instanceof SettingError &&
        ['INSERT_MAX_ROWS', 'LOG_LEVEL', 'BIGQUERY_TABLE'].every(name =>
          err.message.includes(name),
        ),
    );
  });

  it('refuses a dead-letter raw size whose row cannot fit in a request', () => {
    assert.throws(
      () =>
        resolveFunctionSettings({
          INSERT_MAX_BYTES: String(1024 * 1024),
          DEAD_LETTER_RAW_MAX_BYTES: String(1024 * 1024),
        }),
      /DEAD_LETTER_RAW_MAX_BYTES=1048576 makes a dead-letter row/,
    );
  });

  it('is documented in docs/function.md exactly as declared', () => {
    const docs = readFileSync(join(repoRoot(), 'docs', 'function.md'), 'utf8');

    for (const specs of [FUNCTION_SETTINGS, LOCAL_SERVER_SETTINGS]) {
      assert.ok(
        docs.includes(settingsTable(specs)),
        'docs/function.md does not hold the current settings tables; ' +
          'paste the output of settingsTable',
      );
    }
  });
});
