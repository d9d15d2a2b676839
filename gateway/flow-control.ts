/**
 * The instance's memory bound: bytes of items received but not yet settled
 * (accepted by Pub/Sub, or given up on). Above the cap the gateway stops
 * reading every stream, so HTTP/2 flow control slows the clients down; as
 * publishes settle and the count drops back under the cap, reading resumes.
 * Nothing is ever dropped to stay under the cap.
 *
 * The bound is soft by a known amount: a stream that is paused may still
 * hold a few messages grpc-js had already read ahead (the readable stream's
 * buffer of 16 messages) plus its HTTP/2 window.
 * TODO: those read-ahead messages are not counted; with many streams of
 * large messages, memory can pass the cap by streams x 16 x message size.
 */

/** Told when reading should stop or may resume. */
export interface FlowListener {
  pause(): void;
  resume(): void;
}

export class FlowControl {
  /** Bytes acquired and not yet released; never negative. */
  private heldBytes = 0;
  /** True from passing the cap until dropping back under it. */
  private blocked = false;
  private readonly listeners = new Set<FlowListener>();
  /** Highest heldBytes ever seen, for tests and logs. */
  private peakBytes = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes currently held. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Highest number of bytes held at once since start. */
  get peak(): number {
    return this.peakBytes;
  }

  /** Whether readers should currently be paused. */
  get isBlocked(): boolean {
    return this.blocked;
  }

  /** Counts bytes of a received item; pauses every reader past the cap. */
  acquire(bytes: number): void {
    this.heldBytes += bytes;
    if (this.heldBytes > this.peakBytes) this.peakBytes = this.heldBytes;
    if (!this.blocked && this.heldBytes > this.maxBytes) {
      this.blocked = true;
      for (const listener of this.listeners) listener.pause();
    }
  }

  /** Returns bytes of settled items; resumes readers once under the cap. */
  release(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
    if (this.blocked && this.heldBytes <= this.maxBytes) {
      this.blocked = false;
      for (const listener of this.listeners) listener.resume();
    }
  }

  /**
   * Registers a reader; it is paused at once if the cap is passed. Returns
   * the function that unregisters it.
   */
  register(listener: FlowListener): () => void {
    this.listeners.add(listener);
    if (this.blocked) listener.pause();
    return () => this.listeners.delete(listener);
  }
}
