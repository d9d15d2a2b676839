/**
 * Turns the items of all streams of the instance into batches. There is one
 * open batch at a time; every stream adds to it. It closes when it holds
 * BATCH_MAX_ITEMS items, when the next item would take its envelope past
 * BATCH_MAX_BYTES, BATCH_MAX_DELAY_MS after its first item, or at once when
 * a stream that has items in it ends. A closed batch waits for one of
 * PUBLISH_MAX_CONCURRENT publish slots, then is encoded and published as one
 * Pub/Sub message; when that settles, every stream with an item in it is
 * told, and the batch's bytes leave the flow control count. The publish
 * timeout runs from the moment the batch closed, its wait included.
 */
import {
  EnvelopeBuilder,
  type EnvelopeEntry,
} from '../envelope/envelope-builder.js';
import {encodeBatch, type EncodedBatch} from '../envelope/codec.js';
import type {ContentEncoding} from '../envelope/attributes.js';
import {BufferPool, IDLE_BUFFERS_MAX} from '../runtime/buffer-pool.js';
import type {Logger} from '../runtime/logger.js';
import {ITEM_OVERHEAD_BYTES} from './settings.js';
import type {FlowControl} from './flow-control.js';
import {PublishSlots} from './publish-slots.js';

/** Where batches go: Pub/Sub in production, anything in tests and benches. */
export interface BatchSink {
  /**
   * Publishes one batch as one message; resolves with its message id once
   * it is durably accepted, rejects if it is not. `batch.data` is valid
   * only until the returned promise settles: its buffer is then reused for
   * a later batch, so a sink that keeps bytes (or views of them) copies.
   */
  publish(batch: EncodedBatch): Promise<string>;
}

/** A stream with items in batches, told how each of its batches ended. */
export interface BatchMember {
  /** Batch `batchSeq` was accepted (failure undefined) or given up on. */
  settle(batchSeq: number, failure: Error | undefined): void;
}

/** The batcher's limits and collaborators. */
export interface BatcherOptions {
  maxItems: number;
  maxBytes: number;
  maxDelayMs: number;
  compression: ContentEncoding;
  publishTimeoutMs: number;
  /** Batches being published at once; the others wait (publish-slots.ts). */
  publishMaxConcurrent: number;
  sink: BatchSink;
  flowControl: FlowControl;
  logger: Logger;
}

/** Publishing a batch took longer than the publish timeout. */
export class PublishTimeoutError extends Error {
  override name = 'PublishTimeoutError';
}

class OpenBatch {
  readonly builder = new EnvelopeBuilder();
  readonly members = new Set<BatchMember>();
  /** The member added last, so a run of one stream's items skips the Set. */
  lastMember: BatchMember | undefined;
  /** Flow control bytes acquired for this batch's items. */
  heldBytes = 0;
  /** Closes the batch by age; set with its first item. */
  timer: NodeJS.Timeout | undefined;
  constructor(readonly seq: number) {}
}

export class Batcher {
  /** The batch items go to; undefined until the next item arrives. */
  private open: OpenBatch | undefined;
  private nextSeq = 0;
  /** Publishes of closed batches not yet settled. */
  private readonly publishing = new Set<Promise<void>>();
  /** Envelopes are at most maxBytes: one item larger cannot be accepted. */
  private readonly envelopes: BufferPool;

  private readonly slots: PublishSlots;

  constructor(private readonly options: BatcherOptions) {
    this.envelopes = new BufferPool(options.maxBytes, IDLE_BUFFERS_MAX);
    this.slots = new PublishSlots(options.publishMaxConcurrent);
  }

  /** Closed batches waiting for a publish slot. */
  get waitingCount(): number {
    return this.slots.waitingCount;
  }

  /** Closed batches whose publish has not settled yet. */
  get publishingCount(): number {
    return this.publishing.size;
  }

  /**
   * Adds one item of `member`'s stream and returns the sequence number of
   * the batch it went into. Synchronous: it runs once per item.
   */
  add(entry: EnvelopeEntry, member: BatchMember): number {
    const {maxItems, maxBytes} = this.options;
    let batch = this.open ?? this.startBatch();
    if (!batch.builder.tryAdd(entry, maxBytes)) {
      this.close(batch);
      batch = this.startBatch();
      // An empty builder accepts any item, so this cannot refuse.
      batch.builder.tryAdd(entry, maxBytes);
    }

    if (batch.lastMember !== member) {
      batch.members.add(member);
      batch.lastMember = member;
    }
    const held = entry.payload.byteLength + ITEM_OVERHEAD_BYTES;
    batch.heldBytes += held;
    this.options.flowControl.acquire(held);

    if (
      batch.builder.itemCount >= maxItems ||
      batch.builder.encodedBytes >= maxBytes
    ) {
      this.close(batch);
    }
    return batch.seq;
  }

  /** Closes the open batch now if it is batch `batchSeq`. */
  flushBatch(batchSeq: number): void {
    if (this.open !== undefined && this.open.seq === batchSeq) {
      this.close(this.open);
    }
  }

  /** Closes the open batch now, whatever it holds. */
  flush(): void {
    if (this.open !== undefined) this.close(this.open);
  }

  /** Flushes, then resolves once every closed batch has settled. */
  async drain(): Promise<void> {
    this.flush();
    while (this.publishing.size > 0) {
      await Promise.all(this.publishing);
    }
  }

  private startBatch(): OpenBatch {
    const batch = new OpenBatch(this.nextSeq++);
    this.open = batch;
    batch.timer = setTimeout(() => this.close(batch), this.options.maxDelayMs);
    return batch;
  }

  private close(batch: OpenBatch): void {
    if (this.open !== batch) return;
    this.open = undefined;
    clearTimeout(batch.timer);
    const publishing = this.publish(batch);
    this.publishing.add(publishing);
    void publishing.finally(() => this.publishing.delete(publishing));
  }

  private async publish(batch: OpenBatch): Promise<void> {
    const {logger, publishTimeoutMs, compression} = this.options;
    const items = batch.builder.itemCount;
    const startedMs = performance.now();
    let failure: Error | undefined;

    try {
      if (!(await this.slots.acquire(publishTimeoutMs))) {
        throw new PublishTimeoutError(
          `the batch waited ${publishTimeoutMs} ms for one of ` +
            `PUBLISH_MAX_CONCURRENT=${this.slots.limit} publishes to finish`,
        );
      }
      let bytes = 0;
      const published = encodeBatch(
        batch.builder,
        compression,
        this.envelopes,
      ).then(encoded => {
        bytes = encoded.data.byteLength;
        const sending = this.options.sink.publish(encoded);
        const reuse = () => this.envelopes.give(encoded.data);
        sending.then(reuse, reuse);
        return sending;
      });
      // The sink may still read the envelope after the timeout below gave
      // up waiting, so the envelope is reused, and the slot freed, only once
      // the sink's own promise ends (or encoding failed, or the sink threw).
      const free = () => this.slots.release();
      published.then(free, free);
      const messageId = await withTimeout(
        published,
        Math.max(0, publishTimeoutMs - (performance.now() - startedMs)),
      );
      logger.info(
        {
          items,
          bytes,
          streams: batch.members.size,
          messageId,
          latencyMs: Math.round(performance.now() - startedMs),
        },
        'batch published',
      );
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      logger.error(
        {
          items,
          streams: batch.members.size,
          latencyMs: Math.round(performance.now() - startedMs),
          err: failure,
        },
        'batch not published',
      );
    }

    this.options.flowControl.release(batch.heldBytes);
    for (const member of batch.members) {
      // One stream's failure to take the news must not keep it from others.
      try {
        member.settle(batch.seq, failure);
      } catch (err) {
        logger.error({err}, 'stream failed to settle a batch');
      }
    }
  }
}

/**
 * Rejects with PublishTimeoutError if `promise` has not settled within
 * `timeoutMs`. The sink bounds its own retries by the same time; this is
 * the backstop that guarantees every batch settles.
 */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PublishTimeoutError(
            `Pub/Sub did not accept the batch within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
