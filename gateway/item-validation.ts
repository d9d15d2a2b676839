/**
 * Validation of one item as it arrives: its createdAt becomes UTC
 * microseconds, its payload is checked against the size limit. These checks
 * run once per item on the hot path, so they use no Date objects and
 * allocate nothing but the error when an item is refused.
 */
import {ItemMessage} from '../generated/items.js';
import {InvalidItemError} from './status.js';

/**
 * Earliest createdAt accepted: 1960-01-01T00:00:00Z in microseconds.
 * BigQuery partitions by day only from 1960-01-01 to 2159-12-31; outside
 * that range a row goes to a special partition or is refused, so the gateway
 * refuses such an item up front rather than acknowledge a row that cannot
 * be stored as the others are.
 */
export const MIN_CREATED_AT_MICROS = Date.UTC(1960, 0, 1) * 1000;

/** Last instant accepted: 2159-12-31T23:59:59.999999Z in microseconds. */
export const MAX_CREATED_AT_MICROS = Date.UTC(2160, 0, 1) * 1000 - 1;

/** Longest createdAt text quoted back in an error's details. */
const QUOTED_VALUE_MAX_CHARS = 64;

// Date, time, up to 6 fractional digits (anything longer is caught below to
// give a precise message), then Z or a numeric offset. RFC 3339 allows
// lower-case t and z.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const CHAR_ZERO = 0x30;
const CHAR_DASH = 0x2d;
const CHAR_COLON = 0x3a;
const CHAR_DOT = 0x2e;
const CHAR_UPPER_T = 0x54;
const CHAR_LOWER_T = 0x74;
const CHAR_UPPER_Z = 0x5a;
const CHAR_LOWER_Z = 0x7a;

// ItemMessage field tags (field number << 3 | wire type 2), one byte each.
const CREATED_AT_TAG = (1 << 3) | 2;
const PAYLOAD_TAG = (2 << 3) | 2;

/** Longest length the fast decoder reads: a four-byte varint, < 2^28. */
const LENGTH_VARINT_MAX_BYTES = 4;

const EMPTY_PAYLOAD = Buffer.alloc(0);

/**
 * Parses `createdAt` of the item at `ordinal` into microseconds since the
 * Unix epoch, UTC. Throws InvalidItemError naming the ordinal, the field and
 * the value when the text is not RFC 3339 with an offset, has more than
 * microsecond precision, names a day or time that does not exist, or lies
 * outside BigQuery's partition range.
 */
export function parseCreatedAt(text: string, ordinal: number): number {
  return readUtcForm(text) ?? parseCreatedAtByPattern(text, ordinal);
}

/**
 * The general parser behind parseCreatedAt: every form RFC 3339 allows,
 * and the one place that words a refusal. parseCreatedAt's fast path must
 * agree with it on every input (a property test holds them together).
 */
export function parseCreatedAtByPattern(text: string, ordinal: number): number {
  const match = RFC3339.exec(text);
  if (match === null) {
    throw refuse(
      ordinal,
      text,
      'is not an RFC 3339 timestamp with an offset ' +
        '(like 2025-01-31T12:00:00.123456Z or ...+01:00)',
    );
  }
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, oh, om] = match;
  if (fraction !== undefined && fraction.length > 6) {
    throw refuse(ordinal, text, 'has more than microsecond precision');
  }

  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    throw refuse(ordinal, text, 'names a day that does not exist');
  }
  // Second 60 is a leap second: RFC 3339 allows it, BigQuery cannot store it.
  if (hour > 23 || minute > 59 || second > 59) {
    throw refuse(ordinal, text, 'names a time of day that does not exist');
  }
  let offsetMinutes = 0;
  if (zulu === undefined) {
    const offsetHour = Number(oh);
    const offsetMinute = Number(om);
    if (offsetHour > 23 || offsetMinute > 59) {
      throw refuse(ordinal, text, 'has an offset that does not exist');
    }
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }

  const seconds =
    daysFromEpoch(year, month, day) * 86_400 +
    hour * 3600 +
    minute * 60 +
    second -
    offsetMinutes * 60;
  const micros =
    seconds * 1_000_000 +
    (fraction === undefined ? 0 : Number(fraction.padEnd(6, '0')));
  if (micros < MIN_CREATED_AT_MICROS || micros > MAX_CREATED_AT_MICROS) {
    throw refuse(
      ordinal,
      text,
      'is outside the range BigQuery partitions, ' +
        '1960-01-01T00:00:00Z to 2159-12-31T23:59:59.999999Z',
    );
  }
  return micros;
}

/**
 * The fast path for the form nearly every producer sends,
 * `YYYY-MM-DDTHH:MM:SS[.f to ffffff]Z`, read character by character: the
 * pattern's match array and its eleven strings per item were the larger
 * part of validation's cost. Returns undefined for any other form and for
 * any value the general parser would refuse, so that it words the refusal.
 */
function readUtcForm(text: string): number | undefined {
  const length = text.length;
  if (length < 20 || length > 27 || length === 21) return undefined;
  const zone = text.charCodeAt(length - 1);
  const t = text.charCodeAt(10);
  if (
    (zone !== CHAR_UPPER_Z && zone !== CHAR_LOWER_Z) ||
    (t !== CHAR_UPPER_T && t !== CHAR_LOWER_T) ||
    text.charCodeAt(4) !== CHAR_DASH ||
    text.charCodeAt(7) !== CHAR_DASH ||
    text.charCodeAt(13) !== CHAR_COLON ||
    text.charCodeAt(16) !== CHAR_COLON
  ) {
    return undefined;
  }
  const year = readDigits(text, 0, 4);
  const month = readDigits(text, 5, 2);
  const day = readDigits(text, 8, 2);
  const hour = readDigits(text, 11, 2);
  const minute = readDigits(text, 14, 2);
  const second = readDigits(text, 17, 2);
  let fraction = 0;
  if (length > 20) {
    if (text.charCodeAt(19) !== CHAR_DOT) return undefined;
    const fractionDigits = length - 21;
    fraction = readDigits(text, 20, fractionDigits);
    if (fraction < 0) return undefined;
    fraction *= 10 ** (6 - fractionDigits);
  }
  // readDigits gives -1 for a non-digit, which every check below refuses.
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysIn(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59
  ) {
    return undefined;
  }

  const seconds =
    daysFromEpoch(year, month, day) * 86_400 +
    hour * 3600 +
    minute * 60 +
    second;
  const micros = seconds * 1_000_000 + fraction;
  if (micros < MIN_CREATED_AT_MICROS || micros > MAX_CREATED_AT_MICROS) {
    return undefined;
  }
  return micros;
}

/** The decimal number of `count` digits at `start`, or -1 if one is not. */
function readDigits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - CHAR_ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Checks the payload of the item at `ordinal` against `maxBytes`; an empty
 * payload is valid.
 */
export function checkPayloadSize(
  payloadBytes: number,
  ordinal: number,
  maxBytes: number,
  settingName: string,
): void {
  if (payloadBytes <= maxBytes) return;
  throw new InvalidItemError(
    ordinal,
    'payload',
    `item ${ordinal}: payload is ${payloadBytes} bytes, over the limit ` +
      `${settingName}=${maxBytes}`,
  );
}

/** Bytes of a gRPC message that do not parse as an items.ItemMessage. */
export class UndecodableItem {
  constructor(readonly reason: string) {}
}

/**
 * The request deserializer of the service. It never throws: grpc-js would
 * turn a throw into INTERNAL, while a message that is not a valid
 * ItemMessage is the client's error, so the stream handler ends the stream
 * with INVALID_ARGUMENT naming the item. Unknown fields are skipped.
 *
 * The payload is a view of `bytes`, not a copy: grpc-js hands every message
 * over in a buffer of its own that nothing writes to again, and the
 * envelope copies the payload once, when its batch is finished.
 */
export function decodeItemMessage(
  bytes: Buffer,
): ItemMessage | UndecodableItem {
  const viewed = viewKnownFields(bytes);
  if (viewed !== undefined) return viewed;
  // Anything unusual (unknown fields, other wire types, long or truncated
  // lengths, non-ASCII text) goes to the generated decoder, so that every
  // input decodes, or is refused, exactly as it always was.
  try {
    return ItemMessage.decode(bytes);
  } catch (err) {
    return new UndecodableItem(
      err instanceof Error ? err.message : String(err),
    );
  }
}

/**
 * Reads a message made only of the two known fields, each with a one-byte
 * tag and its length in at most four bytes, and createdAt in ASCII: what
 * every producer of this contract sends. Later occurrences of a field win,
 * as in the generated decoder. Returns undefined for anything else.
 */
function viewKnownFields(bytes: Buffer): ItemMessage | undefined {
  const end = bytes.length;
  let createdAt = '';
  let payload: Buffer = EMPTY_PAYLOAD;
  let pos = 0;

  while (pos < end) {
    const tag = bytes[pos++];
    if (tag !== CREATED_AT_TAG && tag !== PAYLOAD_TAG) return undefined;
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end || shift === 7 * LENGTH_VARINT_MAX_BYTES) return undefined;
      const byte = bytes[pos++] ?? 0;
      length |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    const start = pos;
    pos += length;
    if (pos > end) return undefined;

    if (tag === PAYLOAD_TAG) {
      payload = bytes.subarray(start, pos);
      continue;
    }
    for (let i = start; i < pos; i++) {
      if ((bytes[i] ?? 0) > 0x7f) return undefined;
    }
    createdAt = bytes.toString('latin1', start, pos);
  }
  return {createdAt, payload};
}

function refuse(ordinal: number, text: string, why: string) {
  return new InvalidItemError(
    ordinal,
    'createdAt',
    `item ${ordinal}: createdAt ${quote(text)} ${why}`,
  );
}

/** The value as JSON text, cut short so details stay one readable line. */
export function quote(text: string): string {
  if (text.length <= QUOTED_VALUE_MAX_CHARS) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, QUOTED_VALUE_MAX_CHARS))}...`;
}

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/**
 * Days from 1970-01-01 to the given civil date in the proleptic Gregorian
 * calendar. Date.UTC would do this too, but maps years 0 to 99 onto the
 * 1900s, which would let year 0070 pass as 1970.
 */
function daysFromEpoch(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = (month + 9) % 12;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 +
    Math.floor(yearOfEra / 4) -
    Math.floor(yearOfEra / 100) +
    dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
