/**
 * What the gateway's integration tests share: a gateway started in-process
 * on a loopback port against a real Pub/Sub emulator, with its own topic and
 * pull subscription; a real grpc-js client; and helpers that send a stream
 * and read back what reached Pub/Sub.
 */
import {randomUUID} from 'node:crypto';
import {setTimeout as sleep} from 'node:timers/promises';
import {
  credentials,
  Metadata,
  status,
  type ClientWritableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import {PubSub, type Subscription} from '@google-cloud/pubsub';
import {pino} from 'pino';
import {decodeBatch, type DecodedItem} from '../../../envelope/codec.js';
import {
  ItemHandlerClient,
  type ItemMessage,
  type JoinMessage,
} from '../../../generated/items.js';
import {startGateway, type Gateway} from '../../../gateway/gateway.js';
import {resolveGatewaySettings} from '../../../gateway/settings.js';
import {PubSubSink} from '../../../gateway/publisher.js';
import {ITEMS_ACCEPTED_TRAILER} from '../../../gateway/status.js';
import type {BatchSink} from '../../../gateway/batcher.js';
import type {EncodedBatch} from '../../../envelope/codec.js';
import type {PubSubEmulator} from '../../harness/emulators.js';

export {until} from '../../harness/wait.js';

/** How one stream ended, as the client saw it. */
export interface StreamOutcome {
  code: status;
  details: string;
  /** JoinMessage.id, when the stream succeeded. */
  id: string | undefined;
  /** The items-accepted trailer, when present. */
  itemsAccepted: number | undefined;
}

/** A topic with one pull subscription on an emulator. */
export interface TestTopic {
  readonly name: string;
  readonly emulatorHost: string;
  readonly subscription: Subscription;
  readonly admin: PubSub;
}

/** Creates a topic and a subscription with unique names. */
export async function createTestTopic(
  emulator: PubSubEmulator,
  prefix: string,
): Promise<TestTopic> {
  const admin = new PubSub({
    projectId: emulator.projectId,
    apiEndpoint: emulator.host,
  });
  const name = `${prefix}-${randomUUID()}`;
  const [topic] = await admin.createTopic(name);
  const [subscription] = await topic.createSubscription(name, {
    ackDeadlineSeconds: 60,
  });
  return {name, emulatorHost: emulator.host, subscription, admin};
}

/** A gateway under test with the client and topic that go with it. */
export interface GatewayUnderTest {
  readonly gateway: Gateway;
  readonly client: ItemHandlerClient;
  readonly topic: TestTopic;
  /** Items of each batch Pub/Sub accepted, recorded as it accepted. */
  readonly batches: DecodedItem[][];
  stop(): Promise<void>;
}

/**
 * Starts a gateway on 127.0.0.1 publishing to a fresh topic on `emulator`,
 * with `env` overriding the settings. Its real Pub/Sub sink is wrapped
 * only to record what Pub/Sub accepted and when.
 */
export async function startTestGateway(
  emulator: PubSubEmulator,
  env: Record<string, string> = {},
): Promise<GatewayUnderTest> {
  const topic = await createTestTopic(emulator, 'gateway');
  const settings = resolveGatewaySettings({
    GOOGLE_CLOUD_PROJECT: emulator.projectId,
    PUBSUB_TOPIC: topic.name,
    PUBSUB_EMULATOR_HOST: emulator.host,
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const logger = pino({level: process.env.TEST_LOG_LEVEL ?? 'silent'});
  const pubsub = new PubSubSink({
    projectId: settings.project,
    topic: settings.topic,
    emulatorHost: settings.emulatorHost,
    publishTimeoutMs: settings.publishTimeoutMs,
    batchMaxBytes: settings.batchMaxBytes,
    logger,
  });
  const batches: DecodedItem[][] = [];
  const sink: BatchSink = {
    async publish(batch: EncodedBatch) {
      const messageId = await pubsub.publish(batch);
      // The batcher reuses batch.data once this settles; decode a copy.
      batches.push(await decode(Buffer.from(batch.data), batch.attributes));
      return messageId;
    },
  };

  const gateway = await startGateway(settings, logger, {
    sink,
    host: '127.0.0.1',
  });
  const client = new ItemHandlerClient(
    `127.0.0.1:${gateway.port}`,
    credentials.createInsecure(),
  );
  return {
    gateway,
    client,
    topic,
    batches,
    async stop() {
      client.close();
      await gateway.shutdown();
      await pubsub.close();
      await topic.admin.close();
    },
  };
}

/** An item with a fixed createdAt and a payload naming its ordinal. */
export function item(ordinal: number, payloadBytes = 16): ItemMessage {
  const payload = Buffer.alloc(payloadBytes, ordinal % 251);
  payload.write(`#${ordinal}#`.slice(0, payloadBytes));
  return {createdAt: '2025-06-01T12:00:00.000001Z', payload};
}

/** Options of one test stream. */
export interface SendOptions {
  metadata?: Metadata;
  /** Half-close after the items (default); false leaves the stream open. */
  end?: boolean;
}

/** A stream in progress and its eventual outcome. */
export interface OpenStream {
  readonly call: ClientWritableStream<ItemMessage>;
  readonly outcome: Promise<StreamOutcome>;
  /** Writes items, waiting whenever the client's buffer is full. */
  write(items: Iterable<ItemMessage>): Promise<void>;
}

/** Opens a stream on `client`. */
export function openStream(
  client: ItemHandlerClient,
  metadata: Metadata = new Metadata(),
): OpenStream {
  let reply: JoinMessage | undefined;
  let call: ClientWritableStream<ItemMessage>;
  const outcome = new Promise<StreamOutcome>(resolve => {
    call = client.stream(
      metadata,
      (_err: ServiceError | null, response?: JoinMessage) => {
        reply = response;
      },
    );
    call.on('status', ({code, details, metadata: trailer}) => {
      const [accepted] = trailer.get(ITEMS_ACCEPTED_TRAILER);
      resolve({
        code,
        details,
        id: reply?.id,
        itemsAccepted: accepted === undefined ? undefined : Number(accepted),
      });
    });
    // A write after the server ended the call fails; the status says why.
    call.on('error', () => {});
  });
  return {
    // The executor above ran synchronously, so call is set.
    get call() {
      return call;
    },
    outcome,
    async write(items) {
      for (const message of items) {
        if (call.writableEnded || call.destroyed) return;
        if (!call.write(message)) await writable(call);
      }
    },
  };
}

/** Sends `items` on one stream and resolves with how it ended. */
export async function sendStream(
  client: ItemHandlerClient,
  items: ItemMessage[],
  options: SendOptions = {},
): Promise<StreamOutcome> {
  const stream = openStream(client, options.metadata);
  await stream.write(items);
  if (options.end ?? true) stream.call.end();
  return stream.outcome;
}

/** Metadata carrying an idempotency key. */
export function withKey(key: string): Metadata {
  const metadata = new Metadata();
  metadata.set('idempotency-key', key);
  return metadata;
}

/**
 * Pulls from the topic's subscription until `count` items have arrived (or
 * `timeoutMs` passed), then once more to catch any extra, and returns every
 * item of every message with the number of messages. It uses the REST
 * API's unary pull: a streaming pull left open would keep the emulator
 * from stopping promptly.
 */
export async function pullItems(
  topic: TestTopic,
  count: number,
  timeoutMs = 20_000,
): Promise<{items: DecodedItem[]; messages: number}> {
  const items: DecodedItem[] = [];
  let messages = 0;
  const deadline = Date.now() + timeoutMs;
  let extraPulls = 1;
  while (Date.now() < deadline && (items.length < count || extraPulls-- > 0)) {
    const received = await pullOnce(topic);
    messages += received.length;
    for (const message of received) {
      items.push(...(await decode(message.data, message.attributes)));
    }
    if (received.length === 0) await sleep(50);
  }
  return {items, messages};
}

interface PulledMessage {
  data: Buffer;
  attributes: Record<string, string>;
}

async function pullOnce(topic: TestTopic): Promise<PulledMessage[]> {
  const base = `http://${topic.emulatorHost}/v1/${topic.subscription.name}`;
  const response = await fetch(`${base}:pull`, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({maxMessages: 1000, returnImmediately: true}),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as {
    receivedMessages?: {
      ackId: string;
      message: {data?: string; attributes?: Record<string, string>};
    }[];
  };
  const received = body.receivedMessages ?? [];
  if (received.length > 0) {
    await fetch(`${base}:acknowledge`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({ackIds: received.map(r => r.ackId)}),
      signal: AbortSignal.timeout(10_000),
    });
  }
  return received.map(({message}) => ({
    data: Buffer.from(message.data ?? '', 'base64'),
    attributes: message.attributes ?? {},
  }));
}

/** Items as comparable text: stream id, ordinal, createdAt, payload. */
export function describeItems(
  items: Iterable<
    Pick<DecodedItem, 'streamId' | 'ordinal' | 'createdAtMicros' | 'payload'>
  >,
): string[] {
  return [...items]
    .map(
      i =>
        `${i.streamId}/${i.ordinal}/${i.createdAtMicros}/` +
        Buffer.from(i.payload).toString('hex'),
    )
    .sort();
}

/** Resolves when `call` can take more writes or has closed. */
function writable(call: ClientWritableStream<ItemMessage>): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      call.off('drain', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
  });
}

function decode(data: Uint8Array, attributes: Record<string, string>) {
  return decodeBatch(data, attributes, 64 * 1024 * 1024);
}

/** createdAt of `item()` in UTC microseconds. */
export const ITEM_CREATED_AT_MICROS = Date.UTC(2025, 5, 1, 12) * 1000 + 1;
