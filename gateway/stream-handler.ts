/**
 * One call of items.ItemHandler/Stream, from its first item to its reply.
 * Items are validated, numbered and handed to the shared batcher as they
 * arrive; the reply waits until every batch holding an item of the stream
 * has settled. A stream that fails (invalid item, timeout, shutdown, a batch
 * Pub/Sub did not accept) stops reading, still publishes what it received,
 * and ends with its status once those items have settled, so the
 * items-accepted trailer is exact.
 */
import type {ServerReadableStream, sendUnaryData} from '@grpc/grpc-js';
import type {ItemMessage, JoinMessage} from '../generated/items.js';
import type {Logger} from '../runtime/logger.js';
import type {BatchMember, Batcher} from './batcher.js';
import type {FlowControl, FlowListener} from './flow-control.js';
import {
  checkPayloadSize,
  parseCreatedAt,
  UndecodableItem,
} from './item-validation.js';
import {GATEWAY_SETTINGS, type GatewaySettings} from './settings.js';
import {StreamLedger} from './stream-ledger.js';
import {
  acceptedTrailer,
  InternalFailure,
  InvalidItemError,
  PublishFailedError,
  ShuttingDownError,
  statusName,
  StreamFailure,
  StreamTimeoutError,
  toStatus,
} from './status.js';

/** A call as grpc-js hands it over, with what the deserializer produced. */
export type ItemCall = ServerReadableStream<
  ItemMessage | UndecodableItem,
  JoinMessage
>;

/** What every stream of the instance shares. */
export interface StreamContext {
  settings: Pick<
    GatewaySettings,
    | 'maxPayloadBytes'
    | 'streamIdleTimeoutMs'
    | 'maxStreamDurationMs'
    | 'publishTimeoutMs'
  >;
  batcher: Batcher;
  flowControl: FlowControl;
  logger: Logger;
}

/** reading: taking items; closing: awaiting its batches; done: ended. */
type Phase = 'reading' | 'closing' | 'done';

export class ActiveStream implements BatchMember, FlowListener {
  private readonly ledger = new StreamLedger();
  private phase: Phase = 'reading';
  /** Why the stream ends, once decided; undefined means success. */
  private failure: StreamFailure | undefined;
  private payloadBytes = 0;
  private readonly startedMs = Date.now();
  /** Last item, or the end of a pause the gateway imposed. */
  private lastActivityMs = this.startedMs;
  /** True while flow control holds this stream's reading. */
  private pausedByFlow = false;
  private readonly unregisterFlow: () => void;

  constructor(
    readonly id: string,
    private readonly call: ItemCall,
    private readonly callback: sendUnaryData<JoinMessage>,
    private readonly context: StreamContext,
    private readonly onDone: (stream: ActiveStream) => void,
  ) {
    call.on('data', message => this.receive(message));
    call.on('end', () => this.close(undefined));
    // grpc-js emits 'cancelled' when the client cancels or disconnects, when
    // grpc-js itself ended the call (a message over the size limit, the
    // client's deadline) and also after every status the gateway sends.
    call.on('cancelled', () => this.cancelled());
    call.on('error', err => context.logger.warn({err}, 'stream read failed'));
    this.unregisterFlow = context.flowControl.register(this);
  }

  /** Whether the stream has not yet ended. */
  get isActive(): boolean {
    return this.phase !== 'done';
  }

  pause(): void {
    this.pausedByFlow = true;
    this.call.pause();
  }

  resume(): void {
    this.pausedByFlow = false;
    this.lastActivityMs = Date.now();
    if (this.phase === 'reading') this.call.resume();
  }

  settle(batchSeq: number, failure: Error | undefined): void {
    this.ledger.settle(batchSeq, failure);
    if (failure !== undefined && this.phase === 'reading') {
      this.fail(this.publishFailed(failure));
      return;
    }
    if (this.phase === 'closing' && this.ledger.isSettled) this.reply();
  }

  /**
   * Ends the stream with `failure` once what it received has settled. Only
   * the first failure counts; a stream already closing keeps its outcome.
   */
  fail(failure: StreamFailure): void {
    if (this.phase !== 'reading') return;
    this.close(failure);
  }

  /** Ends the stream for a limit of time, if it has passed one. */
  checkTimeouts(nowMs: number): void {
    if (this.phase !== 'reading') return;
    const {streamIdleTimeoutMs, maxStreamDurationMs} = this.context.settings;
    const s = GATEWAY_SETTINGS;
    if (nowMs - this.startedMs > maxStreamDurationMs) {
      this.fail(
        new StreamTimeoutError(
          `the stream is still sending after ${s.maxStreamDurationMs.env}=` +
            `${maxStreamDurationMs} ms; split the items into shorter streams`,
        ),
      );
    } else if (
      !this.pausedByFlow &&
      nowMs - this.lastActivityMs > streamIdleTimeoutMs
    ) {
      this.fail(
        new StreamTimeoutError(
          `the stream sent nothing for ${s.streamIdleTimeoutMs.env}=` +
            `${streamIdleTimeoutMs} ms`,
        ),
      );
    }
  }

  /**
   * Ends the stream now with `failure`, without waiting for its batches: the
   * last resort of a shutdown that ran out of time. Items not yet settled
   * are not counted as accepted.
   */
  abandon(failure: StreamFailure): void {
    if (this.phase === 'done') return;
    this.failure ??= failure;
    this.reply();
  }

  private receive(message: ItemMessage | UndecodableItem): void {
    if (this.phase !== 'reading') return;
    const ordinal = this.ledger.handed;
    const {batcher, settings} = this.context;

    let createdAtMicros: number;
    try {
      if (message instanceof UndecodableItem) {
        throw new InvalidItemError(
          ordinal,
          'message',
          `item ${ordinal}: the message is not a valid items.ItemMessage ` +
            `(${message.reason})`,
        );
      }
      checkPayloadSize(
        message.payload.byteLength,
        ordinal,
        settings.maxPayloadBytes,
        GATEWAY_SETTINGS.maxPayloadBytes.env,
      );
      createdAtMicros = parseCreatedAt(message.createdAt, ordinal);
    } catch (err) {
      this.fail(asFailure(err));
      return;
    }

    // Wall-clock milliseconds: receive times must be comparable across
    // instances, which a monotonic clock is not.
    const nowMs = Date.now();
    this.lastActivityMs = nowMs;
    this.payloadBytes += message.payload.byteLength;
    // A batch closed by this add settles at the earliest a microtask later,
    // so recording the item after add() can never miss its settle.
    const batchSeq = batcher.add(
      {
        streamId: this.id,
        ordinal,
        createdAtMicros,
        payload: message.payload,
        receivedAtMicros: nowMs * 1000,
      },
      this,
    );
    this.ledger.recordItem(batchSeq);
  }

  /** The client half-closed (failure undefined), or the stream failed. */
  private close(failure: StreamFailure | undefined): void {
    if (this.phase !== 'reading') return;
    this.phase = 'closing';
    this.failure = failure;
    this.unregisterFlow();
    // Stop reading: whatever else the client sends is not taken, and HTTP/2
    // flow control holds it back until the status goes out.
    if (failure !== undefined) this.call.pause();

    this.context.batcher.flushBatch(this.ledger.lastBatchSeq);
    if (this.ledger.isSettled) this.reply();
  }

  private cancelled(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.unregisterFlow();
    // The items received stay in their batches and are still published;
    // there is just nobody left to tell.
    this.context.batcher.flushBatch(this.ledger.lastBatchSeq);
    this.logEnd('CANCELLED');
    this.onDone(this);
  }

  private reply(): void {
    this.phase = 'done';
    const accepted = this.ledger.accepted;
    const publishFailure = this.ledger.publishFailure;
    const failure =
      this.failure ??
      (publishFailure === undefined
        ? undefined
        : this.publishFailed(publishFailure));

    if (failure === undefined) {
      this.callback(null, {id: this.id}, acceptedTrailer(accepted));
      this.logEnd('OK');
    } else {
      this.callback(toStatus(failure, accepted));
      this.logEnd(statusName(failure.code), failure);
    }
    this.onDone(this);
  }

  private publishFailed(cause: Error): PublishFailedError {
    return new PublishFailedError(
      'Pub/Sub did not accept a batch holding items of this stream within ' +
        `${GATEWAY_SETTINGS.publishTimeoutMs.env}=` +
        `${this.context.settings.publishTimeoutMs} ms (${cause.message}); ` +
        'the items-accepted trailer says from which item to resend',
    );
  }

  private logEnd(statusText: string, failure?: StreamFailure): void {
    const fields = {
      streamId: this.id,
      items: this.ledger.handed,
      itemsAccepted: this.ledger.accepted,
      bytes: this.payloadBytes,
      durationMs: Math.round(Date.now() - this.startedMs),
      status: statusText,
      details: failure?.message,
    };
    const level = endLevel(failure, statusText);
    this.context.logger[level](fields, 'stream ended');
  }
}

/** Validation throws only StreamFailures; anything else is a bug. */
function asFailure(err: unknown): StreamFailure {
  return err instanceof StreamFailure ? err : new InternalFailure(err);
}

/**
 * Refusals (an invalid item, a limit, a failed publish) log at error; a
 * shutdown or a client that went away at warn; success at info.
 */
function endLevel(
  failure: StreamFailure | undefined,
  statusText: string,
): 'info' | 'warn' | 'error' {
  if (failure === undefined) return statusText === 'OK' ? 'info' : 'warn';
  return failure instanceof ShuttingDownError ? 'warn' : 'error';
}
