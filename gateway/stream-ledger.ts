/**
 * What one stream has handed to batches and what Pub/Sub has accepted of
 * it. The items of a stream enter batches in order, so each batch holds one
 * contiguous run of the stream's ordinals; the ledger keeps those runs in
 * order and from them knows the longest prefix of the stream that is
 * durably accepted, which is what the items-accepted trailer reports.
 */
import type {BatchMember} from './batcher.js';

const PENDING = 0;
const ACCEPTED = 1;
const FAILED = 2;

interface Run {
  /** Sequence number of the batch holding this run. */
  readonly batchSeq: number;
  /** One past the last ordinal of the run. */
  endOrdinal: number;
  state: typeof PENDING | typeof ACCEPTED | typeof FAILED;
}

export class StreamLedger implements BatchMember {
  /** Items handed to batches so far; the next item's ordinal. */
  private handedItems = 0;
  /** Items whose batch settled, accepted or not. */
  private settledItems = 0;
  /** Items 0 to acceptedPrefix-1 are all in accepted batches. */
  private acceptedPrefix = 0;
  /** Runs not yet folded into acceptedPrefix, in ordinal order. */
  private readonly runs: Run[] = [];
  /** The first publish failure of a batch holding items of this stream. */
  private failure: Error | undefined;
  private settledListener: (() => void) | undefined;

  /** Items handed to batches. */
  get handed(): number {
    return this.handedItems;
  }

  /** Length of the prefix of the stream that Pub/Sub has accepted. */
  get accepted(): number {
    return this.acceptedPrefix;
  }

  /** Whether every item handed to a batch has been settled. */
  get isSettled(): boolean {
    return this.settledItems === this.handedItems;
  }

  /** Why a batch of this stream was not accepted, if one was not. */
  get publishFailure(): Error | undefined {
    return this.failure;
  }

  /** Sequence number of the batch the last item went to, or -1. */
  get lastBatchSeq(): number {
    return this.runs.at(-1)?.batchSeq ?? -1;
  }

  /** Records that the next item went into batch `batchSeq`. */
  recordItem(batchSeq: number): void {
    this.handedItems++;
    const last = this.runs.at(-1);
    if (last !== undefined && last.batchSeq === batchSeq) {
      last.endOrdinal = this.handedItems;
      return;
    }
    this.runs.push({batchSeq, endOrdinal: this.handedItems, state: PENDING});
  }

  settle(batchSeq: number, failure: Error | undefined): void {
    let previousEnd = this.acceptedPrefix;
    for (const run of this.runs) {
      if (run.batchSeq === batchSeq && run.state === PENDING) {
        run.state = failure === undefined ? ACCEPTED : FAILED;
        this.settledItems += run.endOrdinal - previousEnd;
        break;
      }
      previousEnd = run.endOrdinal;
    }
    if (failure !== undefined) this.failure ??= failure;

    // Fold accepted runs at the head into the prefix. A failed run stops
    // the prefix for good: a later accepted run is in Pub/Sub too, but the
    // client cannot tell from a count which items those were.
    while (this.runs[0]?.state === ACCEPTED) {
      const head = this.runs.shift();
      if (head !== undefined) this.acceptedPrefix = head.endOrdinal;
    }

    if (this.isSettled) this.settledListener?.();
  }

  /**
   * Calls `listener` once every handed item has settled: at once if that is
   * already so, otherwise on the settle that completes it.
   */
  whenSettled(listener: () => void): void {
    if (this.isSettled) {
      listener();
      return;
    }
    this.settledListener = () => {
      this.settledListener = undefined;
      listener();
    };
  }
}
