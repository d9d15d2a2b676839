#!/usr/bin/env node
/**
 * ingest-produce: streams items to a gateway, from NDJSON or synthetic load.
 * Exits 0 when every stream was acknowledged, 1 when any finally failed, 2
 * on a usage or input error (each bad line named with its number).
 */
import {randomUUID} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {parseArgs} from 'node:util';
import {parseTarget} from './connection.js';
import {parseNdjson, syntheticItem, type PayloadFormat} from './item-source.js';
import {produce, type StreamItems} from './produce.js';
import {progressLine, progressPrinter} from './progress.js';
import type {ItemMessage} from '../generated/items.js';

const USAGE = `Usage: ingest-produce [options]

Input (one of):
  --file PATH         NDJSON, one {"createdAt": "...", "payload": "..."} per
                      line; "-" or no --file and no --items reads stdin
  --text              payload fields are plain text, not base64
  --items N           synthetic load: N items in all
  --size BYTES        synthetic payload size (default 1024)

Sending:
  --target ADDR       host:port or https URL (default 127.0.0.1:8080);
                      an https URL (Cloud Run) implies TLS and an ID token
  --tls / --no-tls    force TLS on or off
  --id-token          send a Google ID token even for host:port
  --streams K         concurrent streams (default 1)
  --rate N            items per second over all streams (default: flat out)
  --key-prefix S      idempotency keys are S-0 … S-(K-1) (default: random)
  --attempts N        tries per stream, same key and items (default 5)
  --backoff-ms MS     delay before the first retry, doubled after (default 500)
  --timeout-ms MS     deadline of one attempt (default 600000)
  --help`;

function fail(message: string): never {
  process.stderr.write(`ingest-produce: ${message}\n`);
  process.exit(2);
}

function positive(name: string, raw: string | undefined, fallback: number) {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    fail(`--${name} must be a whole number of at least 1, got ${raw}`);
  }
  return value;
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        file: {type: 'string'},
        text: {type: 'boolean', default: false},
        items: {type: 'string'},
        size: {type: 'string'},
        target: {type: 'string', default: '127.0.0.1:8080'},
        tls: {type: 'boolean'},
        'no-tls': {type: 'boolean'},
        'id-token': {type: 'boolean'},
        streams: {type: 'string'},
        rate: {type: 'string'},
        'key-prefix': {type: 'string'},
        attempts: {type: 'string'},
        'backoff-ms': {type: 'string'},
        'timeout-ms': {type: 'string'},
        help: {type: 'boolean', default: false},
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
}

/** Splits items into `count` contiguous streams of near-equal size. */
function splitIntoStreams(
  items: ItemMessage[],
  count: number,
  keyPrefix: string,
): StreamItems[] {
  const size = Math.ceil(items.length / count);
  return Array.from({length: count}, (_, index) => {
    const part = items.slice(index * size, (index + 1) * size);
    return {
      idempotencyKey: `${keyPrefix}-${index}`,
      itemCount: part.length,
      itemAt: (ordinal: number) => part[ordinal] ?? fail(`no item ${ordinal}`),
    };
  }).filter(stream => stream.itemCount > 0);
}

function syntheticStreams(
  total: number,
  count: number,
  payloadBytes: number,
  keyPrefix: string,
): StreamItems[] {
  const spec = {payloadBytes, baseMicros: Date.now() * 1000, seed: keyPrefix};
  const perStream = Math.ceil(total / count);
  return Array.from({length: count}, (_, index) => ({
    idempotencyKey: `${keyPrefix}-${index}`,
    itemCount: Math.max(0, Math.min(perStream, total - index * perStream)),
    itemAt: (ordinal: number) => syntheticItem(spec, index, ordinal),
  })).filter(stream => stream.itemCount > 0);
}

async function main(): Promise<number> {
  const args = parseCommandLine();
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const streamCount = positive('streams', args.streams, 1);
  const keyPrefix = args['key-prefix'] ?? randomUUID();
  let target;
  try {
    target = parseTarget(args.target, {
      tls: args['no-tls'] ? false : args.tls,
      idToken: args['id-token'],
    });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }

  let streams: StreamItems[];
  if (args.items !== undefined) {
    if (args.file !== undefined) fail('give either --file or --items');
    const size = args.size === undefined ? 1024 : Number(args.size);
    if (!Number.isSafeInteger(size) || size < 0) {
      fail(`--size must be a whole number of bytes, got ${args.size}`);
    }
    const total = positive('items', args.items, 1);
    streams = syntheticStreams(total, streamCount, size, keyPrefix);
  } else {
    const path = args.file === undefined || args.file === '-' ? 0 : args.file;
    const format: PayloadFormat = args.text ? 'text' : 'base64';
    const {items, errors} = parseNdjson(readFileSync(path, 'utf8'), format);
    if (errors.length > 0) {
      for (const error of errors.slice(0, 20)) {
        process.stderr.write(`ingest-produce: ${error.message}\n`);
      }
      fail(`${errors.length} bad input line(s); nothing was sent`);
    }
    streams = splitIntoStreams(items, streamCount, keyPrefix);
  }

  const totalItems = streams.reduce((sum, s) => sum + s.itemCount, 0);
  const {outcomes, progress} = await produce({
    target,
    streams,
    rateItemsPerSecond:
      args.rate === undefined ? undefined : positive('rate', args.rate, 1),
    maxAttempts: positive('attempts', args.attempts, 5),
    backoffMs: positive('backoff-ms', args['backoff-ms'], 500),
    attemptTimeoutMs: positive('timeout-ms', args['timeout-ms'], 600_000),
    onProgress: progressPrinter(process.stderr, totalItems),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');

  for (const outcome of outcomes) {
    const state = outcome.ok
      ? `ok id=${outcome.streamId}`
      : `FAILED ${outcome.error?.code}: ${outcome.error?.details}` +
        ` (items-accepted ${outcome.itemsAccepted ?? 'unknown'})`;
    process.stdout.write(
      `stream ${outcome.idempotencyKey} ${state} attempts=${outcome.attempts}\n`,
    );
  }
  process.stdout.write(`${progressLine(progress, totalItems)}\n`);
  return outcomes.every(outcome => outcome.ok) ? 0 : 1;
}

process.exitCode = await main();
