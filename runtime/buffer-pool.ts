/**
 * Reuses the large buffers the gateway needs once per batch: the envelope
 * and the Pub/Sub request around it, a few hundred KB each.
 *
 * Why: a fresh buffer that size is its own ArrayBuffer outside V8's heap.
 * V8 counts those bytes towards its next full collection, so at tens of MB
 * of batches a second the gateway ran a mark-compact every ~15 MB, and
 * every fresh buffer's pages were faulted in on first write. Reusing the
 * buffers took design C of the benchmark from 25-26 to 18-21 µs/item and
 * its peak RSS from 180-195 to 145 MB (docs/benchmark.md).
 *
 * The rule that keeps it safe: a view handed back with give() must not be
 * read or written again by anyone. A pooled buffer that is still in use
 * would silently change what is published, so give() ignores anything
 * take() did not hand out or that was handed back already, and callers
 * give back only once the last reader is known to be done.
 */
/**
 * Buffers the gateway's pools (envelopes, requests) keep each when idle. A
 * few cover steady load, the publishes in flight at once
 * (PUBLISH_MAX_CONCURRENT, 16 by default); beyond that, buffers coming
 * back are left to the garbage collector.
 */
export const IDLE_BUFFERS_MAX = 16;

export class BufferPool {
  /** Whole pooled buffers not lent out, at most maxFree. */
  private readonly free: Buffer[] = [];
  /** Backing stores of the views currently lent out. */
  private readonly lent = new Set<ArrayBufferLike>();

  /**
   * @param bufferBytes size of every pooled buffer; take() of more than
   *   this allocates a fresh buffer that is never pooled.
   * @param maxFree buffers kept for reuse when idle; give() beyond that
   *   lets the buffer go to the garbage collector.
   */
  constructor(
    readonly bufferBytes: number,
    readonly maxFree: number,
  ) {
    if (!Number.isSafeInteger(bufferBytes) || bufferBytes < 1) {
      throw new RangeError('bufferBytes must be a positive integer');
    }
    if (!Number.isSafeInteger(maxFree) || maxFree < 0) {
      throw new RangeError('maxFree must be a non-negative integer');
    }
  }

  /** Buffers kept for reuse right now. */
  get freeCount(): number {
    return this.free.length;
  }

  /** Views lent out and not yet handed back. */
  get lentCount(): number {
    return this.lent.size;
  }

  /** A buffer of exactly `bytes` bytes whose content is unspecified. */
  take(bytes: number): Buffer {
    if (bytes > this.bufferBytes) return Buffer.allocUnsafe(bytes);
    // allocUnsafeSlow gives each buffer its own ArrayBuffer, never a slice
    // of Node's shared 8 KiB pool, so lending it out cannot alias another.
    const whole = this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes);
    this.lent.add(whole.buffer);
    return whole.subarray(0, bytes);
  }

  /** Hands back a view take() returned; see the class comment. */
  give(view: Uint8Array): void {
    if (!this.lent.delete(view.buffer)) return;
    if (this.free.length < this.maxFree) {
      this.free.push(Buffer.from(view.buffer, 0, this.bufferBytes));
    }
  }
}
