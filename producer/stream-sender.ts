/**
 * Sends one stream of items and retries it when the failure is worth
 * retrying. Every attempt carries the same idempotency key and the same
 * items in the same order, so the gateway gives them the same identities
 * and the retry deduplicates downstream instead of duplicating.
 */
import {Metadata, status, type ServiceError} from '@grpc/grpc-js';
import {setTimeout as sleep} from 'node:timers/promises';
import type {ItemHandlerClient, ItemMessage} from '../generated/items.js';

/** Statuses after which resending the whole stream can succeed. */
const RETRYABLE = new Set<number>([
  status.UNAVAILABLE,
  status.RESOURCE_EXHAUSTED,
  status.DEADLINE_EXCEEDED,
  status.ABORTED,
  status.INTERNAL,
]);

/** How one stream is sent. */
export interface StreamPlan {
  idempotencyKey: string;
  itemCount: number;
  /** The item at an ordinal; called again, in order, on every attempt. */
  itemAt: (ordinal: number) => ItemMessage;
  maxAttempts: number;
  /** Delay before the 2nd attempt; doubled each time, with jitter. */
  backoffMs: number;
  /** Deadline of one attempt. */
  attemptTimeoutMs: number;
  /** Waits before each item for the rate limit, if any. */
  pace?: () => Promise<void>;
  /** Called with the byte size of each item written. */
  onItemSent?: (payloadBytes: number) => void;
}

/** How a stream finally ended. */
export interface StreamOutcome {
  idempotencyKey: string;
  /** The id the gateway replied with, when the stream succeeded. */
  streamId: string | undefined;
  attempts: number;
  ok: boolean;
  /** The last failure's status code name and details, when not ok. */
  error: {code: string; details: string} | undefined;
  /** The gateway's items-accepted trailer of the last attempt, if sent. */
  itemsAccepted: number | undefined;
}

/** Sends the stream until it succeeds, fails for good, or runs out of tries. */
export async function sendStream(
  client: ItemHandlerClient,
  plan: StreamPlan,
): Promise<StreamOutcome> {
  let last: AttemptResult | undefined;
  for (let attempt = 1; attempt <= plan.maxAttempts; attempt++) {
    if (attempt > 1) {
      const delay = plan.backoffMs * 2 ** (attempt - 2);
      await sleep(delay / 2 + Math.random() * delay);
    }
    last = await sendOnce(client, plan);
    const retryable =
      last.error !== undefined && RETRYABLE.has(last.error.code);
    if (last.error === undefined || !retryable) {
      return outcome(plan, attempt, last);
    }
  }
  if (last === undefined) throw new Error('maxAttempts must be at least 1');
  return outcome(plan, plan.maxAttempts, last);
}

interface AttemptResult {
  streamId: string | undefined;
  error: ServiceError | undefined;
  itemsAccepted: number | undefined;
}

async function sendOnce(
  client: ItemHandlerClient,
  plan: StreamPlan,
): Promise<AttemptResult> {
  const metadata = new Metadata();
  metadata.set('idempotency-key', plan.idempotencyKey);
  let trailer: Metadata | undefined;

  let call: ReturnType<ItemHandlerClient['stream']> | undefined;
  const reply = new Promise<AttemptResult>(resolve => {
    call = client.stream(
      metadata,
      {deadline: Date.now() + plan.attemptTimeoutMs},
      (err, response) =>
        resolve({
          streamId: err ? undefined : response.id,
          error: err ?? undefined,
          itemsAccepted: readAccepted(err?.metadata ?? trailer),
        }),
    );
    call.on('status', s => (trailer = s.metadata));
  });
  if (call === undefined) throw new Error('grpc-js did not start the call');

  await writeAll(call, plan, reply);
  return reply;
}

async function writeAll(
  call: NonNullable<ReturnType<ItemHandlerClient['stream']>>,
  plan: StreamPlan,
  reply: Promise<AttemptResult>,
): Promise<void> {
  let ended = false;
  void reply.then(() => (ended = true));

  for (let ordinal = 0; ordinal < plan.itemCount && !ended; ordinal++) {
    if (plan.pace) await plan.pace();
    const item = plan.itemAt(ordinal);
    const flushed = call.write(item);
    plan.onItemSent?.(item.payload.length);
    if (!flushed) {
      // Respect HTTP/2 flow control: the gateway stops reading when its
      // memory budget is spent, and the client must wait, not buffer.
      await Promise.race([
        new Promise(resolve => call.once('drain', resolve)),
        reply,
      ]);
    }
  }
  if (!ended) call.end();
}

function readAccepted(metadata: Metadata | undefined): number | undefined {
  const value = metadata?.get('items-accepted')[0];
  if (value === undefined) return undefined;
  const count = Number(value.toString());
  return Number.isSafeInteger(count) ? count : undefined;
}

function outcome(
  plan: StreamPlan,
  attempts: number,
  result: AttemptResult,
): StreamOutcome {
  return {
    idempotencyKey: plan.idempotencyKey,
    streamId: result.streamId,
    attempts,
    ok: result.error === undefined,
    error: result.error && {
      code: status[result.error.code] ?? String(result.error.code),
      details: result.error.details,
    },
    itemsAccepted: result.itemsAccepted,
  };
}
