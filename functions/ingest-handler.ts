/**
 * Handles one delivery of one batch: decode, build rows, insert,
 * dead-letter what BigQuery refused. Resolving acknowledges the message;
 * throwing makes the framework answer 500, so Pub/Sub redelivers it.
 * error-classification.ts decides which of the two each failure gets.
 */
import type {CloudEvent} from '@google-cloud/functions-framework';
import {decodeBatch} from '../envelope/codec.js';
import type {Logger} from '../runtime/logger.js';
import type {InsertRequestFn} from './bigquery-client.js';
import {
  messageDeadLetter,
  rowDeadLetter,
  writeDeadLetters,
} from './dead-letter.js';
import {classifyFailure} from './error-classification.js';
import {
  EventShapeError,
  messageFromEvent,
  type BatchMessage,
} from './event-message.js';
import {insertRows} from './insert-rows.js';
import {itemRows} from './rows.js';
import type {FunctionSettings} from './settings.js';

/** What the handler needs; index.ts wires the real ones. */
export interface IngestDependencies {
  settings: FunctionSettings;
  /** Inserts into the items table. */
  insertItems: InsertRequestFn;
  /** Inserts into the dead-letter table. */
  insertDeadLetters: InsertRequestFn;
  logger: Logger;
  now?: () => Date;
}

/** The CloudEvent handler the function registers. */
export function createIngestHandler(
  deps: IngestDependencies,
): (event: CloudEvent<unknown>) => Promise<void> {
  const now = deps.now ?? (() => new Date());
  const limits = {
    maxRows: deps.settings.insertMaxRows,
    maxBytes: deps.settings.insertMaxBytes,
  };
  const rawMaxBytes = deps.settings.deadLetterRawMaxBytes;

  return async event => {
    let message: BatchMessage;
    try {
      message = messageFromEvent(event);
    } catch (err) {
      if (!(err instanceof EventShapeError)) throw err;
      const log = deps.logger.child({eventId: event.id});
      const data = Buffer.from(JSON.stringify(err.eventData ?? null));
      const letter = messageDeadLetter(
        {messageId: event.id, attributes: {}},
        data,
        err.reason,
        {failedAt: now(), rawMaxBytes},
      );
      await writeDeadLetters(deps.insertDeadLetters, [letter], limits, log);
      return;
    }

    const log = deps.logger.child({messageId: message.messageId});
    let items;
    try {
      items = await decodeBatch(
        message.data,
        message.attributes,
        deps.settings.envelopeMaxDecodedBytes,
      );
    } catch (err) {
      const failure = classifyFailure(err);
      if (failure.kind !== 'poison-message') throw err;
      const letter = messageDeadLetter(message, message.data, failure.reason, {
        failedAt: now(),
        rawMaxBytes,
      });
      await writeDeadLetters(deps.insertDeadLetters, [letter], limits, log);
      return;
    }

    const rows = itemRows(items, {
      messageId: message.messageId,
      insertedAt: now(),
    });
    let result;
    try {
      result = await insertRows(deps.insertItems, rows, limits);
    } catch (err) {
      log.warn(
        {err, rows: rows.length},
        'batch insert failed, Pub/Sub will redeliver',
      );
      throw err;
    }

    const failedAt = now();
    const letters = result.rejected.map(({row, reason}) =>
      rowDeadLetter(message, row, reason, {failedAt, rawMaxBytes}),
    );
    await writeDeadLetters(deps.insertDeadLetters, letters, limits, log);

    log.info(
      {
        rows: rows.length - letters.length,
        deadLettered: letters.length,
        requests: result.requests,
        bytes: message.data.byteLength,
      },
      'batch stored',
    );
  };
}
