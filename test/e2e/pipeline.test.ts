import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import {setTimeout as sleep} from 'node:timers/promises';
import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import {loadSync} from '@grpc/proto-loader';
import {parseTarget} from '../../producer/connection.js';
import {
  syntheticItem,
  syntheticMicros,
  type SyntheticSpec,
} from '../../producer/item-source.js';
import {produce} from '../../producer/produce.js';
import {
  probeBytesStorage,
  storedBytes,
  type BytesStorage,
} from '../../local/bigquery-readback.js';
import {freePort} from '../../local/processes.js';
import {repoRoot} from '../../local/paths.js';
import {resolveLocalSettings} from '../../local/settings.js';
import {startStack, type RunningStack} from '../../local/stack.js';

const DELIVERY_TIMEOUT_MS = 60_000;
const execFileAsync = promisify(execFile);

let stack: RunningStack;
let storage: BytesStorage;

before(async () => {
  const ports = await Promise.all(Array.from({length: 5}, () => freePort()));
  const [gateway, fn, pubsub, bigquery, grpc] = ports.map(String);
  stack = await startStack(
    resolveLocalSettings({
      LOCAL_GATEWAY_PORT: gateway,
      LOCAL_FUNCTION_PORT: fn,
      LOCAL_PUBSUB_PORT: pubsub,
      LOCAL_BIGQUERY_PORT: bigquery,
      LOCAL_BIGQUERY_GRPC_PORT: grpc,
    }),
  );
  const scratch = stack.bigqueryClient
    .dataset(stack.settings.dataset)
    .table(`probe_${Date.now()}`);
  await scratch.create({schema: {fields: [{name: 'b', type: 'BYTES'}]}});
  storage = await probeBytesStorage(scratch, 'b');
});

after(async () => {
  await stack?.stop();
});

interface Row {
  stream_id: string;
  item_index: number;
  micros: number;
  payload: Buffer;
}

/** Rows of the dedup view for these streams, once `expected` are there. */
async function viewRows(streamIds: string[], expected: number) {
  const {dataset, dedupView} = stack.settings;
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const [rows] = (await stack.bigqueryClient.query({
      query:
        'SELECT stream_id, item_index, UNIX_MICROS(created_at) AS micros, ' +
        `payload FROM \`${dataset}.${dedupView}\` ` +
        'WHERE stream_id IN UNNEST(@ids) ORDER BY stream_id, item_index',
      params: {ids: streamIds},
    })) as [Row[], ...unknown[]];
    if (rows.length >= expected || Date.now() > deadline) return rows;
    await sleep(500);
  }
}

describe('the pipeline, producer to BigQuery', () => {
  it('stores every item of concurrent streams once, with exact values', async () => {
    const spec: SyntheticSpec = {
      payloadBytes: 300,
      baseMicros: Date.UTC(2026, 0, 2, 3, 4, 5) * 1000 + 678_901,
      seed: randomUUID(),
    };
    const counts = [400, 250, 1, 120];
    const streams = counts.map((itemCount, index) => ({
      idempotencyKey: `e2e-${spec.seed}-${index}`,
      itemCount,
      itemAt: (ordinal: number) => syntheticItem(spec, index, ordinal),
    }));

    const {outcomes} = await produce({
      target: parseTarget(stack.endpoints.gateway),
      streams,
      maxAttempts: 1,
      backoffMs: 100,
      attemptTimeoutMs: 30_000,
    });
    const total = counts.reduce((sum, n) => sum + n, 0);
    const rows = await viewRows(
      streams.map(s => s.idempotencyKey),
      total,
    );

    assert.deepEqual(
      outcomes.map(o => [o.ok, o.streamId]),
      streams.map(s => [true, s.idempotencyKey]),
    );
    assert.equal(rows.length, total);
    const expected = streams.flatMap((stream, index) =>
      Array.from({length: stream.itemCount}, (_, ordinal) => ({
        stream_id: stream.idempotencyKey,
        item_index: ordinal,
        micros: syntheticMicros(spec, index, ordinal),
        payload: syntheticItem(spec, index, ordinal).payload.toString('hex'),
      })),
    );
    const actual = rows.map(row => ({
      stream_id: row.stream_id,
      item_index: Number(row.item_index),
      micros: Number(row.micros),
      payload: storedBytes(row.payload, storage).toString('hex'),
    }));
    const order = (a: {stream_id: string; item_index: number}) =>
      `${a.stream_id}:${String(a.item_index).padStart(8, '0')}`;
    assert.deepEqual(
      actual.sort((a, b) => order(a).localeCompare(order(b))),
      expected.sort((a, b) => order(a).localeCompare(order(b))),
    );
  });

  it('serves a client built from proto/items.proto alone', async () => {
    const definition = loadSync(join(repoRoot(), 'proto', 'items.proto'), {
      keepCase: true,
      longs: String,
      bytes: Buffer,
    });
    const loaded = loadPackageDefinition(definition) as unknown as {
      items: {ItemHandler: new (address: string, creds: unknown) => PeerClient};
    };
    const client = new loaded.items.ItemHandler(
      stack.endpoints.gateway,
      credentials.createInsecure(),
    );
    const key = `peer-${randomUUID()}`;
    const metadata = new Metadata();
    metadata.set('idempotency-key', key);

    const reply = await new Promise<{id: string}>((resolve, reject) => {
      const call = client.Stream(metadata, (err, response) =>
        err ? reject(err) : resolve(response),
      );
      call.write({
        createdAt: '2026-05-06T07:08:09.5+02:00',
        payload: Buffer.from([0xff]),
      });
      call.write({createdAt: '2026-05-06T05:08:10Z', payload: Buffer.alloc(0)});
      call.end();
    });
    client.close();
    const rows = await viewRows([key], 2);

    assert.equal(reply.id, key);
    assert.deepEqual(
      rows.map(row => [
        Number(row.item_index),
        Number(row.micros),
        storedBytes(row.payload, storage).toString('hex'),
      ]),
      [
        [0, Date.UTC(2026, 4, 6, 5, 8, 9, 500) * 1000, 'ff'],
        [1, Date.UTC(2026, 4, 6, 5, 8, 10) * 1000, ''],
      ],
    );
  });
});

describe('grpcurl, a Go client, through server reflection', () => {
  const grpcurl = join(repoRoot(), '.tools', 'bin', 'grpcurl');
  // Outside CI a missing grpcurl skips; in CI it must be there to fail.
  const missing =
    !existsSync(grpcurl) && process.env.CI !== 'true'
      ? 'run scripts/install-grpcurl.sh'
      : false;

  it(
    'lists the service and streams as the README shows',
    {skip: missing},
    async () => {
      const key = `grpcurl-${randomUUID()}`;
      const listed = await execFileAsync(grpcurl, [
        '-plaintext',
        stack.endpoints.gateway,
        'list',
      ]);
      const streamed = await new Promise<string>((resolve, reject) => {
        const child = execFile(
          grpcurl,
          [
            '-plaintext',
            '-H',
            `idempotency-key: ${key}`,
            '-d',
            '@',
            stack.endpoints.gateway,
            'items.ItemHandler/Stream',
          ],
          {timeout: 20_000},
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        );
        child.stdin?.end(
          '{"createdAt": "2026-12-03T10:11:12.123456Z", "payload": "aGVsbG8="}\n' +
            '{"createdAt": "2026-12-03T11:11:12+01:00", "payload": ""}\n',
        );
      });
      const rows = await viewRows([key], 2);

      assert.match(listed.stdout, /^items\.ItemHandler$/m);
      assert.deepEqual(JSON.parse(streamed), {id: key});
      assert.deepEqual(
        rows.map(row => [
          Number(row.micros),
          storedBytes(row.payload, storage).toString('utf8'),
        ]),
        [
          [Date.UTC(2026, 11, 3, 10, 11, 12) * 1000 + 123_456, 'hello'],
          [Date.UTC(2026, 11, 3, 10, 11, 12) * 1000, ''],
        ],
      );
    },
  );
});

interface PeerClient {
  Stream(
    metadata: Metadata,
    callback: (err: ServiceError | null, reply: {id: string}) => void,
  ): {write(item: object): boolean; end(): void};
  close(): void;
}
