/**
 * Reading rows back from the BigQuery emulator exactly, around its one known
 * storage defect: goccy/bigquery-emulator stores a BYTES value sent through
 * insertAll as the bytes of its base64 text instead of the decoded bytes
 * (goccy/bigquery-emulator issue 498), while real BigQuery decodes it.
 *
 * The workaround is a probe, not an assumption: probeBytesStorage inserts a
 * known value once per table and reports what the emulator did, and
 * storedBytes undoes the extra encoding only when the probe saw it. It
 * cannot hide a defect of ours: bytes we sent in any form other than correct
 * base64 would still decode to something unequal to what the test expects.
 * See docs/emulator-gaps.md.
 */
import type {Table} from '@google-cloud/bigquery';

/** What the emulator did with a BYTES value sent as base64 in insertAll. */
export type BytesStorage = 'exact' | 'base64-text';

const PROBE = Buffer.from([0xff, 0x00, 0xfe, 0x80]);

/**
 * Inserts one probe row (with only the given BYTES column and whatever
 * `otherColumns` the schema requires) and reads back how it was stored.
 */
export async function probeBytesStorage(
  table: Table,
  column: string,
  otherColumns: Record<string, unknown> = {},
): Promise<BytesStorage> {
  const marker = `probe-${Date.now()}-${Math.random()}`;
  await table.insert(
    [
      {
        insertId: marker,
        json: {...otherColumns, [column]: PROBE.toString('base64')},
      },
    ],
    {raw: true},
  );
  const [rows] = await table.query(
    `SELECT ${column} AS value FROM \`${table.dataset.id}.${table.id}\``,
  );
  const stored = rows
    .map(row => (row as {value: unknown}).value)
    .find(value => Buffer.isBuffer(value) && decodes(value, PROBE));
  if (stored === undefined) {
    throw new Error(`probe row not found in ${table.id}`);
  }
  return Buffer.compare(stored as Buffer, PROBE) === 0
    ? 'exact'
    : 'base64-text';
}

/** The bytes a row really holds, given how the emulator stores BYTES. */
export function storedBytes(value: unknown, storage: BytesStorage): Buffer {
  if (!Buffer.isBuffer(value)) {
    throw new Error(`expected a BYTES value, got ${typeof value}`);
  }
  return storage === 'exact'
    ? value
    : Buffer.from(value.toString('latin1'), 'base64');
}

function decodes(value: Buffer, expected: Buffer): boolean {
  return (
    Buffer.compare(value, expected) === 0 ||
    Buffer.compare(
      Buffer.from(value.toString('latin1'), 'base64'),
      expected,
    ) === 0
  );
}
