/**
 * Measures, per item, the steps of the gateway's hot path in isolation,
 * each beside the generic code it replaced (the generated decoder, the
 * pattern parser, a BinaryWriter per item), so each step's gain carries a
 * number.
 *
 * Usage: node dist/bench/micro/hot-path.js   (prints a markdown table)
 */
import {performance} from 'node:perf_hooks';
import {BinaryWriter} from '@bufbuild/protobuf/wire';
import {EnvelopeBuilder} from '../../envelope/envelope-builder.js';
import {
  decodeItemMessage,
  parseCreatedAt,
  parseCreatedAtByPattern,
  UndecodableItem,
} from '../../gateway/item-validation.js';
import {EnvelopeItem} from '../../generated/ingest/v1/envelope.js';
import {ItemMessage} from '../../generated/items.js';
import {encodeFrames} from '../load-generator.js';

/** Items per measured step. */
const ITEMS = 200_000;
const BATCH_ITEMS = 300;

/**
 * The envelope item as the builder wrote it before: a BinaryWriter per
 * item, the payload copied in, then out, then into the envelope.
 */
function writerPerItem(
  payload: Uint8Array,
  ordinal: number,
  micros: number,
): Uint8Array {
  const writer = new BinaryWriter();
  writer.uint32(18).fork();
  EnvelopeItem.encode(
    {
      streamIndex: 0,
      ordinal,
      createdAtMicros: micros,
      payload: Buffer.from(payload),
      receivedAtMicros: micros,
    },
    writer,
  );
  return writer.join().finish();
}

function measure(name: string, step: () => void): {name: string; ns: number} {
  for (let i = 0; i < ITEMS / 10; i++) step();
  const started = performance.now();
  for (let i = 0; i < ITEMS; i++) step();
  return {name, ns: ((performance.now() - started) * 1e6) / ITEMS};
}

function run(payloadBytes: number) {
  const frames = encodeFrames(64, payloadBytes);
  const decoded = frames.map(frame => ItemMessage.decode(frame));
  let i = 0;
  const nextFrame = () => frames[i++ % frames.length] ?? Buffer.alloc(0);
  const nextItem = () => decoded[i++ % decoded.length] ?? decoded[0];
  const micros = Date.now() * 1000;

  let builder = new EnvelopeBuilder();
  let fields: Uint8Array[] = [];
  let pathBuilder = new EnvelopeBuilder();
  return [
    measure('ItemMessage.decode (generated, copies payload)', () => {
      ItemMessage.decode(nextFrame());
    }),
    measure('decodeItemMessage (gateway: view, no copy)', () => {
      decodeItemMessage(nextFrame());
    }),
    measure('parseCreatedAtByPattern (general)', () => {
      parseCreatedAtByPattern(nextItem()?.createdAt ?? '', 0);
    }),
    measure('parseCreatedAt (gateway: fast path)', () => {
      parseCreatedAt(nextItem()?.createdAt ?? '', 0);
    }),
    measure('BinaryWriter per item + concat (before)', () => {
      const item = nextItem();
      if (item === undefined) return;
      fields.push(writerPerItem(item.payload, i, micros));
      if (fields.length === BATCH_ITEMS) {
        Buffer.concat(fields);
        fields = [];
      }
    }),
    measure('EnvelopeBuilder.tryAdd + finish (gateway)', () => {
      const item = nextItem();
      if (item === undefined) return;
      builder.tryAdd(
        {
          streamId: 'stream-0',
          ordinal: i,
          createdAtMicros: micros,
          payload: item.payload,
          receivedAtMicros: micros,
        },
        Number.MAX_SAFE_INTEGER,
      );
      if (builder.itemCount === BATCH_ITEMS) {
        builder.finish();
        builder = new EnvelopeBuilder();
      }
    }),
    measure('whole path: decode, validate, add, finish (gateway)', () => {
      const message = decodeItemMessage(nextFrame());
      if (message instanceof UndecodableItem) return;
      pathBuilder.tryAdd(
        {
          streamId: 'stream-0',
          ordinal: i,
          createdAtMicros: parseCreatedAt(message.createdAt, i),
          payload: message.payload,
          receivedAtMicros: micros,
        },
        Number.MAX_SAFE_INTEGER,
      );
      if (pathBuilder.itemCount === BATCH_ITEMS) {
        pathBuilder.finish();
        pathBuilder = new EnvelopeBuilder();
      }
    }),
  ];
}

const isMain = process.argv[1]?.endsWith('hot-path.js') ?? false;
if (isMain) {
  const lines = [
    '| step | ns/item at 1 KiB | ns/item at 64 KiB |',
    '|---|---|---|',
  ];
  const small = run(1024);
  const large = run(64 * 1024);
  small.forEach((row, index) => {
    const big = large[index]?.ns ?? NaN;
    lines.push(`| ${row.name} | ${row.ns.toFixed(0)} | ${big.toFixed(0)} |`);
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}
