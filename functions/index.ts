/**
 * Entry point of the function: the Functions Framework loads this module
 * (`npm run function`, or the Cloud Run functions runtime) and invokes
 * `ingestBatch` for every Pub/Sub message, whether it came by push
 * subscription or through Eventarc. Settings are resolved here, once; a bad
 * one stops the instance with one line naming it.
 */
import * as functions from '@google-cloud/functions-framework';
import {createLogger} from '../runtime/logger.js';
import {SettingError} from '../runtime/settings.js';
import {tableInserters} from './bigquery-client.js';
import {createIngestHandler} from './ingest-handler.js';
import {resolveFunctionSettings, type FunctionSettings} from './settings.js';

/** Name the function is registered and deployed under. */
export const FUNCTION_TARGET = 'ingestBatch';

function loadSettings(): FunctionSettings {
  try {
    return resolveFunctionSettings();
  } catch (err) {
    if (!(err instanceof SettingError)) throw err;
    process.stderr.write(`ingest function: ${err.message}\n`);
    process.exit(1);
  }
}

const settings = loadSettings();
const logger = createLogger({
  service: 'ingest-function',
  project: settings.projectId,
  level: settings.logLevel,
});
functions.cloudEvent(
  FUNCTION_TARGET,
  createIngestHandler({settings, ...tableInserters(settings), logger}),
);

logger.info(
  {
    project: settings.projectId,
    dataset: settings.dataset,
    table: settings.table,
    emulator: settings.emulatorEndpoint ?? null,
  },
  'function loaded',
);
