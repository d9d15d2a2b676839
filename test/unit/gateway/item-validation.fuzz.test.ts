import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkPayloadSize,
  MAX_CREATED_AT_MICROS,
  MIN_CREATED_AT_MICROS,
  parseCreatedAt,
} from '../../../gateway/item-validation.js';
import {InvalidItemError} from '../../../gateway/status.js';

/** The outcome of parseCreatedAt, with any throw other than a refusal kept. */
function attempt(text: string): number | InvalidItemError {
  try {
    return parseCreatedAt(text, 3);
  } catch (err) {
    if (err instanceof InvalidItemError) return err;
    throw new Error(`${JSON.stringify(text)} threw ${String(err)}`, {
      cause: err,
    });
  }
}

/** A civil date and time with an offset, as RFC 3339 text allows it. */
interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  fraction: string;
  offsetMinutes: number | 'Z';
  lowerCase: boolean;
}

const civil: fc.Arbitrary<Civil> = fc.record({
  year: fc.integer({min: 1959, max: 2160}),
  month: fc.integer({min: 1, max: 12}),
  // Clamped to the month's length below.
  day: fc.integer({min: 1, max: 31}),
  hour: fc.integer({min: 0, max: 23}),
  minute: fc.integer({min: 0, max: 59}),
  second: fc.integer({min: 0, max: 59}),
  fraction: fc.string({unit: fc.constantFrom(...'0123456789'), maxLength: 6}),
  offsetMinutes: fc.oneof(
    fc.constant('Z' as const),
    fc.integer({min: -(23 * 60 + 59), max: 23 * 60 + 59}),
  ),
  lowerCase: fc.boolean(),
});

/** Days in a month, through Date rather than the gateway's own table. */
function monthLength(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function text(c: Civil, day: number): string {
  const t = c.lowerCase ? 't' : 'T';
  let offset: string;
  if (c.offsetMinutes === 'Z') {
    offset = c.lowerCase ? 'z' : 'Z';
  } else {
    const abs = Math.abs(c.offsetMinutes);
    offset =
      (c.offsetMinutes < 0 ? '-' : '+') +
      `${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
  }
  const fraction = c.fraction === '' ? '' : `.${c.fraction}`;
  return (
    `${pad(c.year, 4)}-${pad(c.month, 2)}-${pad(day, 2)}${t}` +
    `${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}` +
    `${fraction}${offset}`
  );
}

/**
 * UTC microseconds of the civil time, computed independently of the
 * gateway: Date for the calendar (setUTCFullYear, so no 1900s mapping),
 * BigInt for the microseconds so no double rounding can hide an error.
 */
function expectedMicros(c: Civil, day: number): bigint {
  const date = new Date(0);
  date.setUTCFullYear(c.year, c.month - 1, day);
  date.setUTCHours(c.hour, c.minute, c.second, 0);
  const offsetMs = c.offsetMinutes === 'Z' ? 0 : c.offsetMinutes * 60_000;
  const utcMs = BigInt(date.getTime() - offsetMs);
  return (
    utcMs * 1000n + BigInt(c.fraction === '' ? 0 : c.fraction.padEnd(6, '0'))
  );
}

describe('item validation under arbitrary input', () => {
  it('never throws anything but InvalidItemError for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary', maxLength: 80}), value => {
        const result = attempt(value);
        if (result instanceof InvalidItemError) {
          assert.equal(result.field, 'createdAt');
          assert.equal(result.ordinal, 3);
        }
      }),
      {numRuns: 5_000},
    );
  });

  it('never throws anything but InvalidItemError for near-timestamps', () => {
    // Characters of timestamps, so the regular expression matches often and
    // the range and calendar checks behind it run on odd values.
    const near = fc.string({
      unit: fc.constantFrom(...'0123456789-:.+TZtz '),
      minLength: 15,
      maxLength: 40,
    });
    fc.assert(
      fc.property(near, value => {
        const result = attempt(value);
        if (typeof result === 'number') {
          assert.ok(Number.isSafeInteger(result), value);
          assert.ok(result >= MIN_CREATED_AT_MICROS, value);
          assert.ok(result <= MAX_CREATED_AT_MICROS, value);
        }
      }),
      {numRuns: 5_000},
    );
  });

  it('accepts every valid RFC 3339 time in range and reads the same microseconds as an independent computation', () => {
    fc.assert(
      fc.property(civil, c => {
        const day = Math.min(c.day, monthLength(c.year, c.month));
        const value = text(c, day);
        const micros = expectedMicros(c, day);
        const inRange =
          micros >= BigInt(MIN_CREATED_AT_MICROS) &&
          micros <= BigInt(MAX_CREATED_AT_MICROS);

        const result = attempt(value);

        if (inRange) {
          assert.equal(typeof result, 'number', `${value} was refused`);
          assert.equal(BigInt(result as number), micros, value);
        } else {
          assert.ok(result instanceof InvalidItemError, value);
          assert.match(result.message, /outside the range/);
        }
      }),
      {numRuns: 10_000},
    );
  });

  it('refuses a day past the end of its month', () => {
    fc.assert(
      fc.property(civil, c => {
        const length = monthLength(c.year, c.month);
        fc.pre(length < 31);
        const value = text(c, length + 1);

        const result = attempt(value);

        assert.ok(result instanceof InvalidItemError, value);
        assert.match(result.message, /day that does not exist/);
      }),
      {numRuns: 2_000},
    );
  });

  it('refuses more than six fractional digits whatever the rest', () => {
    fc.assert(
      fc.property(
        civil,
        fc.string({
          unit: fc.constantFrom(...'0123456789'),
          minLength: 7,
          maxLength: 12,
        }),
        (c, fraction) => {
          const day = Math.min(c.day, monthLength(c.year, c.month));
          const value = text({...c, fraction}, day);

          const result = attempt(value);

          assert.ok(result instanceof InvalidItemError, value);
          assert.match(result.message, /microsecond precision/);
        },
      ),
      {numRuns: 2_000},
    );
  });

  it('checks any payload size against any limit without another error', () => {
    fc.assert(
      fc.property(
        fc.nat({max: 2 ** 31}),
        fc.nat({max: 2 ** 31}),
        (payloadBytes, maxBytes) => {
          let refused: unknown;
          try {
            checkPayloadSize(payloadBytes, 0, maxBytes, 'LIMIT');
          } catch (err) {
            refused = err;
          }

          if (payloadBytes <= maxBytes) assert.equal(refused, undefined);
          else assert.ok(refused instanceof InvalidItemError);
        },
      ),
    );
  });
});
