/**
 * The function's one BigQuery client, and the insert call every table write
 * goes through, so all writes share the same options.
 */
import {
  BigQuery,
  type BigQueryOptions,
  type Table,
} from '@google-cloud/bigquery';
import type {FunctionSettings} from './settings.js';
import type {InsertRow} from './rows.js';

/** Sends one insertAll request; resolves only if every row was stored. */
export type InsertRequestFn = (rows: InsertRow<unknown>[]) => Promise<void>;

const SERVICE_ENDPOINT = 'https://bigquery.googleapis.com';

/**
 * Creates the client. The endpoint is always passed explicitly: left to
 * itself the library turns an empty BIGQUERY_EMULATOR_HOST into the
 * endpoint `https://`. Retries cover a blip within one delivery; a longer
 * outage fails the event and is Pub/Sub's to retry.
 */
export function createBigQueryClient(settings: FunctionSettings): BigQuery {
  // `timeout` is a per-request timeout the underlying Service honours,
  // though BigQueryOptions does not declare it.
  const options: BigQueryOptions & {timeout: number} = {
    projectId: settings.projectId,
    apiEndpoint: settings.emulatorEndpoint ?? SERVICE_ENDPOINT,
    timeout: settings.insertTimeoutMs,
    // The library reads a maxRetries of 0 as "use the default of 3".
    retryOptions:
      settings.insertRetries > 0
        ? {autoRetry: true, maxRetries: settings.insertRetries}
        : {autoRetry: false},
  };
  return new BigQuery(options);
}

/**
 * An insert function for `table`. The options are the contract the error
 * classification relies on:
 * - raw: the rows already carry their deterministic insert ids; without it
 *   the library would invent random ones and defeat deduplication.
 * - skipInvalidRows: BigQuery stores the valid rows and lists only the
 *   invalid ones, which are dead-lettered.
 * - ignoreUnknownValues false: a field the table lacks is an error to see,
 *   not data to drop.
 * - partialRetries 0: the library would otherwise resend rejected rows
 *   three times; whether to resend is decided in error-classification.ts.
 */
export function tableInserter(table: Table): InsertRequestFn {
  return async rows => {
    await table.insert(rows, {
      raw: true,
      skipInvalidRows: true,
      ignoreUnknownValues: false,
      partialRetries: 0,
    });
  };
}
