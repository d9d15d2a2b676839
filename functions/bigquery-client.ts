/**
 * The function's one BigQuery client, and the insert call every table write
 * goes through, so all writes share the same options.
 */
import {BigQuery, type Table} from '@google-cloud/bigquery';
import {emulatorAuthClient} from '../runtime/emulator-auth.js';
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
  return new BigQuery({
    projectId: settings.projectId,
    apiEndpoint: settings.emulatorEndpoint ?? SERVICE_ENDPOINT,
    ...(settings.emulatorEndpoint === undefined
      ? {}
      : {authClient: emulatorAuthClient()}),
    // The library reads a maxRetries of 0 as "use the default of 3".
    retryOptions:
      settings.insertRetries > 0
        ? {autoRetry: true, maxRetries: settings.insertRetries}
        : {autoRetry: false},
  });
}

/**
 * An insert function for `table`, bounded by `timeoutMs`. The options are
 * the contract the error classification relies on:
 * - raw: the rows already carry their deterministic insert ids; without it
 *   the library would invent random ones and defeat deduplication.
 * - skipInvalidRows: BigQuery stores the valid rows and lists only the
 *   invalid ones, which are dead-lettered.
 * - ignoreUnknownValues false: a field the table lacks is an error to see,
 *   not data to drop.
 * - partialRetries 0: the library would otherwise resend rejected rows
 *   three times; whether to resend is decided in error-classification.ts.
 */
export function tableInserter(
  table: Table,
  timeoutMs: number,
): InsertRequestFn {
  return rows =>
    withDeadline(
      table.insert(rows, {
        raw: true,
        skipInvalidRows: true,
        ignoreUnknownValues: false,
        partialRetries: 0,
      }),
      timeoutMs,
      `insertAll into ${table.id} did not answer within ${timeoutMs} ms`,
    );
}

/** The request ran out of time; it may still be stored later. */
export class InsertTimeoutError extends Error {
  override name = 'InsertTimeoutError';
}

/**
 * The client's own `timeout` option does nothing on Node (teeny-request
 * hands it to node-fetch 3, which ignores it), so a BigQuery that accepts
 * the connection and never answers would hold the delivery forever.
 *
 * TODO: the abandoned request cannot be aborted (the client takes no
 * signal); it keeps its socket until BigQuery answers or drops it, and may
 * still store its rows, which the insert ids and the dedup view absorb.
 */
async function withDeadline(
  work: Promise<unknown>,
  timeoutMs: number,
  message: string,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new InsertTimeoutError(message)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The two insert functions the handler writes through, for the configured
 * tables: index.ts and the benchmark wire the handler the same way.
 */
export function tableInserters(settings: FunctionSettings): {
  insertItems: InsertRequestFn;
  insertDeadLetters: InsertRequestFn;
} {
  const dataset = createBigQueryClient(settings).dataset(settings.dataset);
  return {
    insertItems: tableInserter(
      dataset.table(settings.table),
      settings.insertTimeoutMs,
    ),
    insertDeadLetters: tableInserter(
      dataset.table(settings.errorsTable),
      settings.insertTimeoutMs,
    ),
  };
}
