/**
 * Builds one BatchEnvelope incrementally. Adding an item only works out its
 * exact encoded size, so the batcher can close a batch on a byte limit; the
 * bytes are written once, in finish(), straight into the envelope's buffer.
 * The payload is never copied before that: it stays the Uint8Array it came
 * in, typically a view of the gRPC message it arrived in, which is what
 * keeps the per-item cost close to the cost of receiving the item.
 */

/** One item as the gateway hands it to a batch. */
export interface EnvelopeEntry {
  streamId: string;
  ordinal: number;
  createdAtMicros: number;
  payload: Uint8Array;
  receivedAtMicros: number;
}

// Field tags (field number << 3 | wire type), one byte each.
const STREAM_IDS_TAG = (1 << 3) | 2;
const ITEMS_TAG = (2 << 3) | 2;
const STREAM_INDEX_TAG = (1 << 3) | 0;
const ORDINAL_TAG = (2 << 3) | 0;
const CREATED_AT_TAG = (3 << 3) | 0;
const PAYLOAD_TAG = (4 << 3) | 2;
const RECEIVED_AT_TAG = (5 << 3) | 0;

const TWO_POW_31 = 2 ** 31;

export class EnvelopeBuilder {
  /** stream id -> its index in streamIds; the two always agree. */
  private readonly streamIndexes = new Map<string, number>();
  private readonly streamIds: string[] = [];
  /** UTF-8 length of each stream id, by index. */
  private readonly streamIdLengths: number[] = [];
  // One slot per item, in insertion order; all arrays have itemCount slots.
  private readonly itemStreamIndexes: number[] = [];
  private readonly ordinals: number[] = [];
  private readonly createdAts: number[] = [];
  private readonly receivedAts: number[] = [];
  /** Held by reference until finish() copies them into the envelope. */
  private readonly payloads: Uint8Array[] = [];
  /** Encoded size of each EnvelopeItem message, without tag and length. */
  private readonly itemSizes: number[] = [];
  private streamIdsBytes = 0;
  private itemsBytes = 0;

  /** Number of items added so far. */
  get itemCount(): number {
    return this.itemSizes.length;
  }

  /** Exact size in bytes of the envelope built so far. */
  get encodedBytes(): number {
    return this.streamIdsBytes + this.itemsBytes;
  }

  /**
   * Adds the entry unless that would take the envelope past maxBytes. An
   * empty builder always accepts, so one item larger than maxBytes still
   * travels alone rather than being stuck forever. The payload is kept by
   * reference until finish(): its bytes must not change until then. Throws
   * RangeError for an ordinal or time that is not an integer a 64-bit
   * protobuf field can hold.
   */
  tryAdd(entry: EnvelopeEntry, maxBytes: number): boolean {
    const known = this.streamIndexes.get(entry.streamId);
    const streamIndex = known ?? this.streamIds.length;
    const itemSize = itemMessageSize(entry, streamIndex);
    const itemField = 1 + varintSize(itemSize) + itemSize;
    let idLength = 0;
    let streamIdField = 0;
    if (known === undefined) {
      idLength = Buffer.byteLength(entry.streamId);
      streamIdField = 1 + varintSize(idLength) + idLength;
    }

    const after = this.encodedBytes + itemField + streamIdField;
    if (this.itemCount > 0 && after > maxBytes) return false;

    if (known === undefined) {
      this.streamIndexes.set(entry.streamId, streamIndex);
      this.streamIds.push(entry.streamId);
      this.streamIdLengths.push(idLength);
      this.streamIdsBytes += streamIdField;
    }
    this.itemStreamIndexes.push(streamIndex);
    this.ordinals.push(entry.ordinal);
    this.createdAts.push(entry.createdAtMicros);
    this.receivedAts.push(entry.receivedAtMicros);
    this.payloads.push(entry.payload);
    this.itemSizes.push(itemSize);
    this.itemsBytes += itemField;
    return true;
  }

  /** Ids of the streams with at least one item in this envelope. */
  get streams(): readonly string[] {
    return this.streamIds;
  }

  /**
   * The envelope's protobuf bytes, exactly what the generated encoder
   * writes for the same items: every field in number order, fields holding
   * their default value left out. `allocate` gives the buffer to write
   * into (the gateway passes a pool's take); every one of its bytes is
   * overwritten.
   */
  finish(allocate: (bytes: number) => Buffer = Buffer.allocUnsafe): Buffer {
    const total = this.encodedBytes;
    const out = allocate(total);
    let pos = 0;

    for (let i = 0; i < this.streamIds.length; i++) {
      const length = this.streamIdLengths[i] ?? 0;
      out[pos++] = STREAM_IDS_TAG;
      pos = writeVarint(out, pos, length);
      pos += out.write(this.streamIds[i] ?? '', pos, length, 'utf8');
    }

    for (let i = 0; i < this.itemSizes.length; i++) {
      out[pos++] = ITEMS_TAG;
      pos = writeVarint(out, pos, this.itemSizes[i] ?? 0);
      const streamIndex = this.itemStreamIndexes[i] ?? 0;
      if (streamIndex !== 0) {
        out[pos++] = STREAM_INDEX_TAG;
        pos = writeVarint(out, pos, streamIndex);
      }
      const ordinal = this.ordinals[i] ?? 0;
      if (ordinal !== 0) {
        out[pos++] = ORDINAL_TAG;
        pos = writeInt64(out, pos, ordinal);
      }
      const createdAt = this.createdAts[i] ?? 0;
      if (createdAt !== 0) {
        out[pos++] = CREATED_AT_TAG;
        pos = writeInt64(out, pos, createdAt);
      }
      const payload = this.payloads[i];
      if (payload !== undefined && payload.byteLength !== 0) {
        out[pos++] = PAYLOAD_TAG;
        pos = writeVarint(out, pos, payload.byteLength);
        out.set(payload, pos);
        pos += payload.byteLength;
      }
      const receivedAt = this.receivedAts[i] ?? 0;
      if (receivedAt !== 0) {
        out[pos++] = RECEIVED_AT_TAG;
        pos = writeInt64(out, pos, receivedAt);
      }
    }

    // Every byte of the unsafe allocation must have been written: a
    // mismatch would publish stale memory, so it is a bug worth a crash.
    if (pos !== total) {
      throw new Error(`envelope wrote ${pos} bytes, sized ${total}`);
    }
    return out;
  }
}

/** Encoded size of the EnvelopeItem message, as the generated code sizes it. */
function itemMessageSize(entry: EnvelopeEntry, streamIndex: number): number {
  const {ordinal, createdAtMicros, payload, receivedAtMicros} = entry;
  if (ordinal < 0) {
    throw new RangeError(`ordinal ${ordinal} is negative`);
  }
  let size = 0;
  if (streamIndex !== 0) size += 1 + varintSize(streamIndex);
  if (ordinal !== 0) size += 1 + int64Size(ordinal);
  if (createdAtMicros !== 0) size += 1 + int64Size(createdAtMicros);
  const payloadBytes = payload.byteLength;
  if (payloadBytes !== 0) size += 1 + varintSize(payloadBytes) + payloadBytes;
  if (receivedAtMicros !== 0) size += 1 + int64Size(receivedAtMicros);
  return size;
}

/** Bytes of the varint of a non-negative safe integer. */
function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/**
 * Bytes of an int64 or uint64 varint: a negative value is its 64-bit two's
 * complement, always ten bytes.
 */
function int64Size(value: number): number {
  if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) return varintSize(value);
  return bigVarintBytes(value).length;
}

/** Writes a non-negative safe integer as a varint; returns the new end. */
function writeVarint(out: Buffer, pos: number, value: number): number {
  if (value < TWO_POW_31) {
    while (value > 0x7f) {
      out[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    out[pos++] = value;
    return pos;
  }
  while (value > 0x7f) {
    out[pos++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[pos++] = value;
  return pos;
}

/** Writes an int64 or uint64 varint; returns the new end. */
function writeInt64(out: Buffer, pos: number, value: number): number {
  if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
    return writeVarint(out, pos, value);
  }
  const bytes = bigVarintBytes(value);
  out.set(bytes, pos);
  return pos + bytes.length;
}

/**
 * The varint of an integer outside the safe range or below zero, through
 * BigInt: rare (times before 1970), so simplicity wins over speed. BigInt
 * throws RangeError for a value that is not an integer.
 */
function bigVarintBytes(value: number): Uint8Array {
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (rest > 0x7fn) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Uint8Array.from(bytes);
}
