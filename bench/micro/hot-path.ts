/**
 * Measures, per item, the steps of the gateway's hot path in isolation,
 * beside a prototype of the copy-free alternative the issue suggests, so
 * the suggestions in docs/benchmark.md carry numbers. The prototype is
 * bench code, not a change to the gateway: whoever changes the gateway
 * should port it there with the gateway's tests.
 *
 * Usage: node dist/bench/micro/hot-path.js   (prints a markdown table)
 */
import {performance} from 'node:perf_hooks';
import {BinaryWriter} from '@bufbuild/protobuf/wire';
import {EnvelopeBuilder} from '../../envelope/envelope-builder.js';
import {
  parseCreatedAt,
  decodeItemMessage,
} from '../../gateway/item-validation.js';
import {ItemMessage} from '../../generated/items.js';
import {encodeFrames} from '../load-generator.js';

/** Items per measured step. */
const ITEMS = 200_000;
const BATCH_ITEMS = 300;

/** The offsets of an ItemMessage's two fields in its bytes, no copies. */
export interface ItemView {
  createdAt: string;
  payloadStart: number;
  payloadEnd: number;
}

/**
 * Reads an ItemMessage without materializing its payload: the payload
 * stays a range of the bytes it arrived in. Unknown fields are skipped as
 * the generated decoder does. Prototype: varints above 2^31 and malformed
 * input are handled only enough for the measurement.
 */
export function viewItemMessage(bytes: Buffer): ItemView {
  let pos = 0;
  let createdAt = '';
  let payloadStart = 0;
  let payloadEnd = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[pos++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
      shift += 7;
    }
  };
  while (pos < bytes.length) {
    const tag = varint();
    const wireType = tag & 7;
    if (wireType !== 2) {
      if (wireType === 0) varint();
      else throw new Error(`wire type ${wireType} not handled`);
      continue;
    }
    const length = varint();
    if (tag >>> 3 === 1) {
      createdAt = bytes.toString('latin1', pos, pos + length);
    } else if (tag >>> 3 === 2) {
      payloadStart = pos;
      payloadEnd = pos + length;
    }
    pos += length;
  }
  return {createdAt, payloadStart, payloadEnd};
}

/**
 * An envelope builder that keeps each payload as the view it was given
 * and copies every byte exactly once, in finish().
 */
export class ChunkedEnvelope {
  private readonly chunks: Uint8Array[] = [];
  private bytes = 0;
  private readonly writer = new BinaryWriter();

  add(
    streamIndex: number,
    ordinal: number,
    createdAtMicros: number,
    payload: Uint8Array,
    receivedAtMicros: number,
  ): void {
    // Fields 1 to 3, payload tag and length; then the payload; then 5.
    const head = this.writer;
    head.uint32(8).uint32(streamIndex);
    head.uint32(16).uint64(ordinal);
    head.uint32(24).int64(createdAtMicros);
    head.uint32(34).uint32(payload.byteLength);
    const fields = head.finish();
    const tail = head.uint32(40).int64(receivedAtMicros).finish();
    const itemBytes = fields.length + payload.byteLength + tail.length;
    const prefix = head.uint32(18).uint32(itemBytes).finish();
    this.chunks.push(prefix, fields, payload, tail);
    this.bytes += prefix.length + itemBytes;
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks, this.bytes);
  }
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
  let chunked = new ChunkedEnvelope();
  return [
    measure('decode ItemMessage (ts-proto)', () => {
      decodeItemMessage(nextFrame());
    }),
    measure('view ItemMessage (prototype)', () => {
      viewItemMessage(nextFrame());
    }),
    measure('parseCreatedAt', () => {
      parseCreatedAt(nextItem()?.createdAt ?? '', 0);
    }),
    measure('EnvelopeBuilder.tryAdd + finish', () => {
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
    measure('chunked envelope add + finish (prototype)', () => {
      const frame = nextFrame();
      const view = viewItemMessage(frame);
      chunked.add(
        0,
        i,
        micros,
        frame.subarray(view.payloadStart, view.payloadEnd),
        micros,
      );
      if (i % BATCH_ITEMS === 0) {
        chunked.finish();
        chunked = new ChunkedEnvelope();
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
