/**
 * Bounds how many batches are being published at once (PUBLISH_MAX_
 * CONCURRENT). A batch being published holds its envelope, the request
 * around it and grpc-js's framed copy, about three times its size, while a
 * closed batch that waits holds only references to its items, which the
 * flow control already counts. Without the bound, a slow Pub/Sub let every
 * closed batch publish at once: at 10^6 items the gateway's peak RSS was
 * 277 MB for 64 MiB of items in flight.
 */
export class PublishSlots {
  private active = 0;
  /** Batches waiting for a slot, in the order they closed. */
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError('limit must be a positive integer');
    }
  }

  /** Publishes holding a slot now. */
  get activeCount(): number {
    return this.active;
  }

  /** Batches waiting for a slot now. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /**
   * Resolves true once the caller holds a slot (it must release() it
   * exactly once), or false if none came free within `timeoutMs`.
   */
  acquire(timeoutMs: number): Promise<boolean> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(true);
    }
    return new Promise(resolve => {
      const grant = () => {
        clearTimeout(timer);
        this.active++;
        resolve(true);
      };
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        resolve(false);
      }, timeoutMs);
      this.waiting.push(grant);
    });
  }

  /** Gives a slot back; the longest-waiting batch gets it. */
  release(): void {
    if (this.active === 0) throw new Error('release() without a slot held');
    this.active--;
    this.waiting.shift()?.();
  }
}
