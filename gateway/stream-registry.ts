/**
 * Admission and life of all the streams of the instance: refuses a call
 * over the stream limit, during shutdown or with a bad idempotency key;
 * enforces the idle and duration limits with one shared timer rather than
 * one per stream; and drains every stream on shutdown.
 */
import type {sendUnaryData} from '@grpc/grpc-js';
import type {JoinMessage} from '../generated/items.js';
import {GATEWAY_SETTINGS, type GatewaySettings} from './settings.js';
import {
  ActiveStream,
  type ItemCall,
  type StreamContext,
} from './stream-handler.js';
import {streamIdFor} from './stream-id.js';
import {
  LimitExceededError,
  ShuttingDownError,
  statusName,
  StreamFailure,
  toStatus,
} from './status.js';

/** Bounds of the interval at which time limits are checked. */
const SWEEP_MIN_MS = 10;
const SWEEP_MAX_MS = 1_000;

/** What the registry needs beyond what each stream needs. */
export interface RegistryContext extends StreamContext {
  settings: StreamContext['settings'] &
    Pick<GatewaySettings, 'maxStreams' | 'idempotencyKeyMaxLength'>;
}

export class StreamRegistry {
  private readonly active = new Set<ActiveStream>();
  /** Set once shutdown began; from then on every new call is refused. */
  private draining = false;
  private readonly sweeper: NodeJS.Timeout;
  /** Resolves the drain's wait when the last active stream ends. */
  private onEmpty: (() => void) | undefined;

  constructor(private readonly context: RegistryContext) {
    const {streamIdleTimeoutMs, maxStreamDurationMs} = context.settings;
    // A tenth of the shorter limit: a stream overruns a limit by at most
    // that much, at the cost of one pass over the streams per interval.
    const sweepMs = Math.min(
      SWEEP_MAX_MS,
      Math.max(
        SWEEP_MIN_MS,
        Math.floor(Math.min(streamIdleTimeoutMs, maxStreamDurationMs) / 10),
      ),
    );
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  /** Streams currently open, including those awaiting their batches. */
  get activeCount(): number {
    return this.active.size;
  }

  /** The grpc-js handler of items.ItemHandler/Stream. */
  readonly handle = (
    call: ItemCall,
    callback: sendUnaryData<JoinMessage>,
  ): void => {
    const {maxStreams, idempotencyKeyMaxLength} = this.context.settings;
    let id: string;
    try {
      if (this.draining) {
        throw new ShuttingDownError(
          'the gateway instance is shutting down; retry the stream',
        );
      }
      if (this.active.size >= maxStreams) {
        throw new LimitExceededError(
          'the gateway instance already serves ' +
            `${GATEWAY_SETTINGS.maxStreams.env}=${maxStreams} streams; ` +
            'retry later',
        );
      }
      id = streamIdFor(call.metadata, idempotencyKeyMaxLength);
    } catch (err) {
      this.refuse(callback, err);
      return;
    }

    const stream = new ActiveStream(id, call, callback, this.context, done =>
      this.ended(done),
    );
    this.active.add(stream);
  };

  /**
   * Stops every stream still reading with UNAVAILABLE, lets the others
   * finish, and resolves when all have ended or at `deadlineMs`, when any
   * stream left is ended at once with what it has accepted.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    const shutdown = new ShuttingDownError(
      'the gateway instance is shutting down; resend from the item the ' +
        'items-accepted trailer names',
    );
    for (const stream of [...this.active]) stream.fail(shutdown);
    this.context.batcher.flush();

    if (this.active.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>(resolve => {
        this.onEmpty = resolve;
        timer = setTimeout(resolve, Math.max(0, deadlineMs - Date.now()));
      });
      clearTimeout(timer);
    }
    for (const stream of [...this.active]) stream.abandon(shutdown);
    clearInterval(this.sweeper);
  }

  /** Stops the timer; for tests and shutdown. */
  close(): void {
    clearInterval(this.sweeper);
  }

  private refuse(callback: sendUnaryData<JoinMessage>, err: unknown): void {
    const status = toStatus(err, 0);
    callback(status);
    const level = err instanceof ShuttingDownError ? 'warn' : 'error';
    this.context.logger[level](
      {
        status: statusName(status.code),
        details: status.details,
        known: err instanceof StreamFailure,
      },
      'stream refused',
    );
  }

  private ended(stream: ActiveStream): void {
    this.active.delete(stream);
    if (this.active.size === 0) this.onEmpty?.();
  }

  private sweep(): void {
    const nowMs = Date.now();
    for (const stream of this.active) stream.checkTimeouts(nowMs);
  }
}
