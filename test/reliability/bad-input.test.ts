/**
 * Bad input through the whole stack. Each case runs beside a bystander
 * stream that trickles good items the whole time: the case gets its status
 * and details, the bystander still succeeds, the gateway still reports
 * SERVING, and at the end everything acknowledged is in the dedup view
 * once. The single-gateway versions of most cases, with their exact
 * trailers, are in test/integration/gateway/limits.test.ts.
 */
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import {Metadata, status} from '@grpc/grpc-js';
import {PubSub} from '@google-cloud/pubsub';
import {ItemMessage} from '../../generated/items.js';
import {ATTRIBUTE, ENVELOPE_SCHEMA} from '../../envelope/attributes.js';
import {
  attempt,
  gatewayClient,
  gatewayHealth,
  records,
  settleLedger,
  smallItem,
  startFaultStack,
  type AttemptOutcome,
  type AttemptPlan,
  type FaultStack,
} from './harness.js';

const MAX_PAYLOAD_BYTES = 1024;
const MAX_MESSAGE_BYTES = 4096;
const IDLE_TIMEOUT_MS = 1500;
const MAX_STREAMS = 50;

let fault: FaultStack;
/** Every stream of the file and every attempt, for the final ledger. */
const itemCounts = new Map<string, number>();
const outcomes: AttemptOutcome[] = [];

before(async () => {
  fault = await startFaultStack({
    GATEWAY_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES),
    GATEWAY_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
    GATEWAY_STREAM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
    GATEWAY_MAX_STREAMS: String(MAX_STREAMS),
  });
});
after(() => fault?.stop());

let bystanders = 0;

/**
 * Runs `body` while a good stream trickles 30 items over about 1.5 s
 * (never idle long enough to time out), then asserts that the bystander
 * succeeded and the gateway is healthy.
 */
async function besideBystander(body: () => Promise<void>): Promise<void> {
  const plan: AttemptPlan = {
    key: `bystander-${bystanders++}`,
    itemCount: 30,
    itemAt: ordinal => smallItem(ordinal),
    paceMs: 50,
    paceEvery: 1,
  };
  itemCounts.set(plan.key, plan.itemCount);
  const client = gatewayClient(fault.gatewayAddress);
  const bystander = attempt(client, plan);
  try {
    await sleep(100);
    await body();
  } finally {
    const outcome = await bystander;
    client.close();
    outcomes.push(outcome);
    assert.equal(outcome.code, status.OK, `bystander: ${outcome.details}`);
    assert.equal(outcome.itemsAccepted, plan.itemCount);
  }
  assert.equal(await gatewayHealth(fault.gatewayAddress), 'SERVING');
}

/** Sends one stream, recording it for the final ledger. */
async function send(
  plan: AttemptPlan,
  metadata?: Metadata,
): Promise<AttemptOutcome> {
  itemCounts.set(plan.key, plan.itemCount);
  const client = gatewayClient(fault.gatewayAddress);
  try {
    const outcome =
      metadata === undefined
        ? await attempt(client, plan)
        : await attemptWithMetadata(client, metadata, plan.itemAt(0));
    outcomes.push(outcome);
    return outcome;
  } finally {
    client.close();
  }
}

/** Good items, then one built by `bad`, then good ones again. */
function badAt(
  key: string,
  position: number,
  bad: ItemMessage,
  itemCount = position + 3,
): AttemptPlan {
  return {
    key,
    itemCount,
    itemAt: ordinal => (ordinal === position ? bad : smallItem(ordinal)),
  };
}

/** One stream with exactly this metadata and one item. */
function attemptWithMetadata(
  client: ReturnType<typeof gatewayClient>,
  metadata: Metadata,
  message: ItemMessage,
): Promise<AttemptOutcome> {
  return new Promise(resolve => {
    const call = client.stream(metadata, () => {});
    call.on('status', ({code, details, metadata: trailer}) => {
      const [accepted] = trailer.get('items-accepted');
      resolve({
        key: 'metadata',
        code,
        details,
        itemsAccepted: accepted === undefined ? undefined : Number(accepted),
        written: 1,
        endedAtMs: Date.now(),
      });
    });
    call.on('error', () => {});
    call.write(message);
    call.end();
  });
}

/** Sends raw gRPC messages, bypassing the client's serializer. */
function sendRaw(key: string, messages: Buffer[]): Promise<AttemptOutcome> {
  const client = gatewayClient(fault.gatewayAddress);
  const metadata = new Metadata();
  metadata.set('idempotency-key', key);
  itemCounts.set(key, messages.length);
  return new Promise<AttemptOutcome>(resolve => {
    const call = client.makeClientStreamRequest<Buffer, Buffer>(
      '/items.ItemHandler/Stream',
      bytes => bytes,
      bytes => bytes,
      metadata,
      {},
      () => {},
    );
    call.on('status', ({code, details, metadata: trailer}) => {
      const [accepted] = trailer.get('items-accepted');
      client.close();
      resolve({
        key,
        code,
        details,
        itemsAccepted: accepted === undefined ? undefined : Number(accepted),
        written: messages.length,
        endedAtMs: Date.now(),
      });
    });
    call.on('error', () => {});
    for (const message of messages) call.write(message);
    call.end();
  }).then(outcome => {
    outcomes.push(outcome);
    return outcome;
  });
}

function encoded(message: ItemMessage): Buffer {
  return Buffer.from(ItemMessage.encode(message).finish());
}

describe('bad input through the whole stack, beside a good stream', () => {
  const badCreatedAt: [string, string, RegExp][] = [
    ['empty', '', /is not an RFC 3339 timestamp/],
    ['garbage', 'not a time', /is not an RFC 3339 timestamp/],
    ['without an offset', '2026-03-04T05:06:07.123456', /with an offset/],
    ['with nanoseconds', '2026-03-04T05:06:07.123456789Z', /microsecond/],
    ['in year 9999', '9999-12-31T23:59:59Z', /outside the range/],
    ['in year 1', '0001-01-01T00:00:00Z', /outside the range/],
    ['a microsecond after 2159', '2160-01-01T00:00:00Z', /outside the range/],
  ];
  for (const [what, createdAt, expected] of badCreatedAt) {
    it(`ends the stream with INVALID_ARGUMENT when createdAt is ${what}`, () =>
      besideBystander(async () => {
        const key = `created-at-${what.replaceAll(' ', '-')}`;

        const outcome = await send(badAt(key, 2, {...smallItem(2), createdAt}));

        assert.equal(outcome.code, status.INVALID_ARGUMENT);
        assert.ok(
          outcome.details.startsWith(
            `item 2: createdAt ${JSON.stringify(createdAt)} `,
          ),
          outcome.details,
        );
        assert.match(outcome.details, expected);
        assert.equal(outcome.itemsAccepted, 2);
      }));
  }

  it('ends the stream with INVALID_ARGUMENT when a payload is over GATEWAY_MAX_PAYLOAD_BYTES', () =>
    besideBystander(async () => {
      const outcome = await send(
        badAt('payload-over', 1, smallItem(1, MAX_PAYLOAD_BYTES + 1)),
      );

      assert.equal(outcome.code, status.INVALID_ARGUMENT);
      assert.equal(
        outcome.details,
        `item 1: payload is ${MAX_PAYLOAD_BYTES + 1} bytes, over the limit ` +
          `GATEWAY_MAX_PAYLOAD_BYTES=${MAX_PAYLOAD_BYTES}`,
      );
      assert.equal(outcome.itemsAccepted, 1);
    }));

  it('ends the stream with RESOURCE_EXHAUSTED when a gRPC message is over GATEWAY_MAX_MESSAGE_BYTES', () =>
    besideBystander(async () => {
      const outcome = await send(
        badAt('message-over', 1, smallItem(1, 2 * MAX_MESSAGE_BYTES)),
      );

      assert.equal(outcome.code, status.RESOURCE_EXHAUSTED);
      assert.match(
        outcome.details,
        new RegExp(
          `Received message larger than max \\(\\d+ vs\\.? ${MAX_MESSAGE_BYTES}\\)`,
        ),
      );
    }));

  const notProtobuf: [string, Buffer][] = [
    ['a truncated field', Buffer.from([0x12, 0x64, 0x01])],
    ['an invalid wire type', Buffer.from([0x0f, 0x01, 0x02])],
    ['a varint that never ends', Buffer.alloc(12, 0xff)],
    ['text', Buffer.from('{"createdAt": "2026-03-04T05:06:07Z"}')],
  ];
  for (const [what, bytes] of notProtobuf) {
    it(`ends the stream with INVALID_ARGUMENT for wire bytes that are not an ItemMessage: ${what}`, () =>
      besideBystander(async () => {
        const key = `raw-${what.replaceAll(' ', '-')}`;

        const outcome = await sendRaw(key, [
          encoded(smallItem(0)),
          bytes,
          encoded(smallItem(2)),
        ]);

        assert.equal(outcome.code, status.INVALID_ARGUMENT);
        assert.match(
          outcome.details,
          /^item 1: the message is not a valid items\.ItemMessage \(.+\)$/,
        );
        assert.equal(outcome.itemsAccepted, 1);
      }));
  }

  it('accepts unknown fields and stores the items', () =>
    besideBystander(async () => {
      // Fields 9 (varint) and 10 (bytes), as a newer client might send.
      const extra = Buffer.from([0x48, 0x05, 0x52, 0x03, 0x61, 0x62, 0x63]);

      const outcome = await sendRaw('unknown-fields', [
        Buffer.concat([encoded(smallItem(0)), extra]),
        Buffer.concat([extra, encoded(smallItem(1))]),
      ]);

      assert.equal(outcome.code, status.OK, outcome.details);
      assert.equal(outcome.itemsAccepted, 2);
    }));

  const badKeys: [string, (m: Metadata) => void, RegExp][] = [
    [
      'too long',
      m => m.set('idempotency-key', 'k'.repeat(65)),
      /65 characters, over the limit IDEMPOTENCY_KEY_MAX_LENGTH=64/,
    ],
    [
      'with a space',
      m => m.set('idempotency-key', 'a b'),
      /must be non-empty visible ASCII/,
    ],
    [
      'given twice',
      m => {
        m.add('idempotency-key', 'one');
        m.add('idempotency-key', 'two');
      },
      // grpc-js sends repeated values as one header, joined by ", ",
      // which the space then makes invalid.
      /"one, two" must be non-empty visible ASCII/,
    ],
  ];
  for (const [what, build, expected] of badKeys) {
    it(`refuses an idempotency-key ${what} with INVALID_ARGUMENT`, () =>
      besideBystander(async () => {
        const metadata = new Metadata();
        build(metadata);

        const outcome = await send(
          {key: `never-${what}`, itemCount: 0, itemAt: smallItem},
          metadata,
        );

        assert.equal(outcome.code, status.INVALID_ARGUMENT);
        assert.match(outcome.details, expected);
        assert.equal(outcome.itemsAccepted, 0);
      }));
  }

  it('ends a stream that never sends with DEADLINE_EXCEEDED after GATEWAY_STREAM_IDLE_TIMEOUT_MS', () =>
    besideBystander(async () => {
      const client = gatewayClient(fault.gatewayAddress);
      const metadata = new Metadata();
      metadata.set('idempotency-key', 'idle');

      const outcome = await new Promise<{code: status; details: string}>(
        resolve => {
          const call = client.stream(metadata, () => {});
          call.on('status', resolve);
          call.on('error', () => {});
        },
      );
      client.close();

      assert.equal(outcome.code, status.DEADLINE_EXCEEDED);
      assert.equal(
        outcome.details,
        `the stream sent nothing for GATEWAY_STREAM_IDLE_TIMEOUT_MS=${IDLE_TIMEOUT_MS} ms`,
      );
    }));

  it('refuses streams past GATEWAY_MAX_STREAMS with RESOURCE_EXHAUSTED out of a thousand concurrent ones, and serves the rest', () =>
    besideBystander(async () => {
      const client = gatewayClient(fault.gatewayAddress);
      const plans: AttemptPlan[] = Array.from({length: 1000}, (_, i) => ({
        key: `crowd-${i}`,
        itemCount: 4,
        itemAt: ordinal => smallItem(ordinal),
        paceMs: 100,
        paceEvery: 1,
      }));
      for (const plan of plans) itemCounts.set(plan.key, plan.itemCount);

      const crowd = await Promise.all(plans.map(p => attempt(client, p)));
      client.close();
      outcomes.push(...crowd);

      const served = crowd.filter(o => o.code === status.OK);
      const refused = crowd.filter(o => o.code === status.RESOURCE_EXHAUSTED);
      assert.equal(served.length + refused.length, 1000);
      // The bystander holds one of the slots.
      assert.ok(served.length >= MAX_STREAMS - 1, `${served.length} served`);
      assert.ok(refused.length > 0);
      for (const outcome of refused) {
        assert.equal(
          outcome.details,
          `the gateway instance already serves GATEWAY_MAX_STREAMS=${MAX_STREAMS} streams; retry later`,
        );
        assert.equal(outcome.itemsAccepted, 0);
      }
    }));

  it('dead-letters a corrupt Pub/Sub message with its bytes while batches around it are stored', () =>
    besideBystander(async () => {
      const {settings} = fault;
      const pubsub = new PubSub({
        projectId: settings.projectId,
        apiEndpoint: `127.0.0.1:${settings.pubsubPort}`,
      });
      const corrupt = Buffer.from([0x0a, 0x7f, 0xff, 0x00, 0x13]);
      let messageId: string;
      try {
        messageId = await pubsub.topic(settings.topic).publishMessage({
          data: corrupt,
          attributes: {[ATTRIBUTE.schema]: ENVELOPE_SCHEMA},
        });
      } finally {
        await pubsub.close();
      }

      const letter = await deadLetterOf(messageId);

      assert.match(letter.reason, /not a valid ingest\.v1\.BatchEnvelope/);
      assert.equal(letter.stream_id, null);
      assert.equal(Number(letter.raw_size_bytes), corrupt.length);
    }));

  it('stores every acknowledged item of the file once, and none twice', async () => {
    const ledger = await settleLedger(fault, records(itemCounts, outcomes));

    assert.deepEqual(ledger.missing, []);
    assert.deepEqual(ledger.duplicates, []);
    assert.deepEqual(ledger.unknown, []);
    assert.ok(ledger.acknowledged > 0);
  });
});

interface DeadLetterRow {
  reason: string;
  stream_id: string | null;
  raw_size_bytes: number;
}

/** The dead-letter row of `messageId`, once the function wrote it. */
async function deadLetterOf(messageId: string): Promise<DeadLetterRow> {
  const {dataset, errorsTable} = fault.settings;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [rows] = (await fault.stack.bigqueryClient.query(
      'SELECT reason, stream_id, raw_size_bytes, message_id ' +
        `FROM \`${dataset}.${errorsTable}\``,
    )) as [(DeadLetterRow & {message_id: string})[], ...unknown[]];
    const found = rows.filter(row => row.message_id === messageId);
    if (found.length > 0) {
      assert.equal(found.length, 1);
      return found[0] as DeadLetterRow;
    }
    if (Date.now() > deadline) assert.fail('no dead letter arrived');
    await sleep(500);
  }
}
