/**
 * Builds one BatchEnvelope incrementally. Each item is encoded the moment it
 * is added, so the builder always knows the exact encoded size of the batch:
 * the batcher closes a batch on a byte limit without ever encoding twice.
 */
import {BinaryWriter} from '@bufbuild/protobuf/wire';
import {EnvelopeItem} from '../generated/ingest/v1/envelope.js';

/** One item as the gateway hands it to a batch. */
export interface EnvelopeEntry {
  streamId: string;
  ordinal: number;
  createdAtMicros: number;
  payload: Uint8Array;
  receivedAtMicros: number;
}

// Field tags of BatchEnvelope (field number << 3 | wire type 2).
const STREAM_IDS_TAG = (1 << 3) | 2;
const ITEMS_TAG = (2 << 3) | 2;

export class EnvelopeBuilder {
  /** stream id -> its index in streamIds; the two always agree. */
  private readonly streamIndexes = new Map<string, number>();
  private readonly streamIds: string[] = [];
  /** Encoded `items` fields (tag, length, item), in insertion order. */
  private readonly itemFields: Uint8Array[] = [];
  private streamIdsBytes = 0;
  private itemsBytes = 0;

  /** Number of items added so far. */
  get itemCount(): number {
    return this.itemFields.length;
  }

  /** Exact size in bytes of the envelope built so far. */
  get encodedBytes(): number {
    return this.streamIdsBytes + this.itemsBytes;
  }

  /**
   * Adds the entry unless that would take the envelope past maxBytes. An
   * empty builder always accepts, so one item larger than maxBytes still
   * travels alone rather than being stuck forever.
   */
  tryAdd(entry: EnvelopeEntry, maxBytes: number): boolean {
    const known = this.streamIndexes.get(entry.streamId);
    const streamIndex = known ?? this.streamIds.length;
    const itemField = encodeItemField(entry, streamIndex);
    const streamIdField =
      known === undefined ? fieldSize(Buffer.byteLength(entry.streamId)) : 0;

    const after = this.encodedBytes + itemField.length + streamIdField;
    if (this.itemCount > 0 && after > maxBytes) return false;

    if (known === undefined) {
      this.streamIndexes.set(entry.streamId, streamIndex);
      this.streamIds.push(entry.streamId);
      this.streamIdsBytes += streamIdField;
    }
    this.itemFields.push(itemField);
    this.itemsBytes += itemField.length;
    return true;
  }

  /** Ids of the streams with at least one item in this envelope. */
  get streams(): readonly string[] {
    return this.streamIds;
  }

  /** The envelope's protobuf bytes. */
  finish(): Buffer {
    const writer = new BinaryWriter();
    for (const id of this.streamIds) writer.uint32(STREAM_IDS_TAG).string(id);
    const head = writer.finish();
    return Buffer.concat([head, ...this.itemFields], this.encodedBytes);
  }
}

function encodeItemField(entry: EnvelopeEntry, streamIndex: number) {
  const writer = new BinaryWriter();
  writer.uint32(ITEMS_TAG).fork();
  EnvelopeItem.encode(
    {
      streamIndex,
      ordinal: entry.ordinal,
      createdAtMicros: entry.createdAtMicros,
      payload: Buffer.from(
        entry.payload.buffer,
        entry.payload.byteOffset,
        entry.payload.byteLength,
      ),
      receivedAtMicros: entry.receivedAtMicros,
    },
    writer,
  );
  return writer.join().finish();
}

/** Size of a length-delimited field with a one-byte tag. */
function fieldSize(contentBytes: number): number {
  return 1 + varintSize(contentBytes) + contentBytes;
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}
