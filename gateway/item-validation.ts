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

/**
 * Parses `createdAt` of the item at `ordinal` into microseconds since the
 * Unix epoch, UTC. Throws InvalidItemError naming the ordinal, the field and
 * the value when the text is not RFC 3339 with an offset, has more than
 * microsecond precision, names a day or time that does not exist, or lies
 * outside BigQuery's partition range.
 */
export function parseCreatedAt(text: string, ordinal: number): number {
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
 */
export function decodeItemMessage(
  bytes: Buffer,
): ItemMessage | UndecodableItem {
  try {
    return ItemMessage.decode(bytes);
  } catch (err) {
    return new UndecodableItem(
      err instanceof Error ? err.message : String(err),
    );
  }
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
