import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import {pino} from 'pino';
import {decodeBatch, type EncodedBatch} from '../../../envelope/codec.js';
import {
  Batcher,
  PublishTimeoutError,
  type BatchMember,
  type BatchSink,
} from '../../../gateway/batcher.js';
import {FlowControl} from '../../../gateway/flow-control.js';

const silent = pino({level: 'silent'});

/** A sink that records batches and settles each when told to. */
class FakeSink implements BatchSink {
  /** Copies: the batcher reuses a batch's buffer once it settled. */
  readonly batches: EncodedBatch[] = [];
  /** The views the batcher handed over, uncopied. */
  readonly given: Buffer[] = [];
  private readonly pending: {
    resolve: (id: string) => void;
    reject: (e: Error) => void;
  }[] = [];
  constructor(private readonly mode: 'accept' | 'hold' = 'accept') {}

  publish(batch: EncodedBatch): Promise<string> {
    this.given.push(batch.data);
    this.batches.push({...batch, data: Buffer.from(batch.data)});
    if (this.mode === 'accept') {
      return Promise.resolve(`message-${this.batches.length}`);
    }
    return new Promise((resolve, reject) =>
      this.pending.push({resolve, reject}),
    );
  }

  acceptNext(): void {
    this.pending.shift()?.resolve(`message-${this.batches.length}`);
  }

  rejectNext(err: Error): void {
    this.pending.shift()?.reject(err);
  }

  async items(maxDecodedBytes = 1 << 24) {
    const all = [];
    for (const batch of this.batches) {
      all.push(
        await decodeBatch(batch.data, batch.attributes, maxDecodedBytes),
      );
    }
    return all;
  }
}

class RecordingMember implements BatchMember {
  readonly settled: [number, Error | undefined][] = [];
  settle(batchSeq: number, failure: Error | undefined): void {
    this.settled.push([batchSeq, failure]);
  }
}

function entry(streamId: string, ordinal: number, payloadBytes = 10) {
  return {
    streamId,
    ordinal,
    createdAtMicros: 1_700_000_000_000_000 + ordinal,
    payload: new Uint8Array(payloadBytes).fill(ordinal % 256),
    receivedAtMicros: 1_700_000_001_000_000,
  };
}

function batcher(
  sink: BatchSink,
  overrides: Partial<ConstructorParameters<typeof Batcher>[0]> = {},
) {
  const flowControl = new FlowControl(1 << 30);
  return new Batcher({
    maxItems: 3,
    maxBytes: 1 << 20,
    maxDelayMs: 10_000,
    compression: 'identity',
    publishTimeoutMs: 10_000,
    publishMaxConcurrent: 16,
    sink,
    flowControl,
    logger: silent,
    ...overrides,
  });
}

describe('Batcher', () => {
  it('closes a batch when it holds the maximum number of items', async () => {
    const sink = new FakeSink();
    const b = batcher(sink);
    const member = new RecordingMember();

    const seqs = [0, 1, 2, 3].map(i => b.add(entry('s', i), member));
    await b.drain();

    assert.deepEqual(seqs, [0, 0, 0, 1]);
    const batches = await sink.items();
    assert.deepEqual(
      batches.map(items => items.map(i => i.ordinal)),
      [[0, 1, 2], [3]],
    );
  });

  it('closes a batch before its envelope would pass the byte limit', async () => {
    const sink = new FakeSink();
    const b = batcher(sink, {maxItems: 100, maxBytes: 250});
    const member = new RecordingMember();

    for (let i = 0; i < 5; i++) b.add(entry('s', i, 100), member);
    await b.drain();

    for (const batch of sink.batches) {
      assert.ok(batch.data.byteLength <= 250, `${batch.data.byteLength}`);
    }
    const ordinals = (await sink.items()).flat().map(i => i.ordinal);
    assert.deepEqual(ordinals, [0, 1, 2, 3, 4]);
    assert.ok(sink.batches.length >= 3);
  });

  it('sends an item larger than the byte limit alone', async () => {
    const sink = new FakeSink();
    const b = batcher(sink, {maxItems: 100, maxBytes: 100});
    const member = new RecordingMember();

    b.add(entry('s', 0, 10), member);
    b.add(entry('s', 1, 500), member);
    b.add(entry('s', 2, 10), member);
    await b.drain();

    const batches = await sink.items();
    assert.deepEqual(
      batches.map(items => items.map(i => i.ordinal)),
      [[0], [1], [2]],
    );
  });

  it('closes a batch once its first item is older than the delay', async () => {
    const sink = new FakeSink();
    const b = batcher(sink, {maxItems: 100, maxDelayMs: 5});
    const member = new RecordingMember();

    b.add(entry('s', 0), member);
    while (member.settled.length === 0) await sleep(5);

    assert.equal(sink.batches.length, 1);
    assert.deepEqual(member.settled, [[0, undefined]]);
  });

  it('puts items of several streams into one batch and tells each once', async () => {
    const sink = new FakeSink();
    const b = batcher(sink, {maxItems: 4});
    const [x, y] = [new RecordingMember(), new RecordingMember()];

    b.add(entry('x', 0), x);
    b.add(entry('y', 0), y);
    b.add(entry('x', 1), x);
    b.add(entry('y', 1), y);
    await b.drain();

    const [items] = await sink.items();
    assert.deepEqual(
      items?.map(i => `${i.streamId}${i.ordinal}`),
      ['x0', 'y0', 'x1', 'y1'],
    );
    assert.deepEqual(x.settled, [[0, undefined]]);
    assert.deepEqual(y.settled, [[0, undefined]]);
  });

  it('flushes the open batch at once when asked for it by number', async () => {
    const sink = new FakeSink();
    const b = batcher(sink, {maxItems: 100});
    const member = new RecordingMember();

    const seq = b.add(entry('s', 0), member);
    b.flushBatch(seq + 1);
    assert.equal(sink.batches.length, 0);
    b.flushBatch(seq);
    await sleep(0);

    assert.equal(sink.batches.length, 1);
  });

  it('reports a rejected publish to every member of the batch', async () => {
    const sink = new FakeSink('hold');
    const b = batcher(sink, {maxItems: 2});
    const [x, y] = [new RecordingMember(), new RecordingMember()];

    b.add(entry('x', 0), x);
    b.add(entry('y', 0), y);
    await sleep(0);
    sink.rejectNext(new Error('topic is gone'));
    await b.drain();

    assert.equal(x.settled[0]?.[1]?.message, 'topic is gone');
    assert.equal(y.settled[0]?.[1]?.message, 'topic is gone');
  });

  it('gives up on a publish that does not settle within the timeout', async () => {
    const sink = new FakeSink('hold');
    const b = batcher(sink, {maxItems: 1, publishTimeoutMs: 20});
    const member = new RecordingMember();

    b.add(entry('s', 0), member);
    await b.drain();

    assert.ok(member.settled[0]?.[1] instanceof PublishTimeoutError);
  });

  it('reuses an envelope buffer only after the sink settled, even past the timeout', async () => {
    const sink = new FakeSink('hold');
    const b = batcher(sink, {maxItems: 1, publishTimeoutMs: 20});
    const member = new RecordingMember();

    b.add(entry('s', 0, 100), member);
    await b.drain();
    // Timed out, but the sink still holds the first envelope: the next
    // batch must be written elsewhere.
    b.add(entry('s', 1, 100), member);
    await sleep(0);
    const [first, second] = sink.given;
    assert.ok(first !== undefined && second !== undefined);
    assert.notEqual(second.buffer, first.buffer);
    assert.deepEqual(first, sink.batches[0]?.data);

    sink.acceptNext();
    await sleep(0);
    b.add(entry('s', 2, 100), member);
    await sleep(0);
    // Settled now, so its buffer is the one the third batch is written to.
    assert.equal(sink.given[2]?.buffer, first.buffer);
    sink.acceptNext();
    sink.acceptNext();
    await b.drain();
    const items = (await sink.items()).flat();
    assert.deepEqual(
      items.map(i => [i.ordinal, i.payload[0]]),
      [
        [0, 0],
        [1, 1],
        [2, 2],
      ],
    );
  });

  it('publishes at most publishMaxConcurrent batches at once, the next when one settles', async () => {
    const sink = new FakeSink('hold');
    const b = batcher(sink, {maxItems: 1, publishMaxConcurrent: 2});
    const member = new RecordingMember();

    for (const ordinal of [0, 1, 2]) b.add(entry('s', ordinal), member);
    await sleep(0);
    assert.equal(sink.given.length, 2);
    assert.equal(b.waitingCount, 1);

    sink.acceptNext();
    await sleep(0);
    assert.equal(sink.given.length, 3);
    sink.acceptNext();
    sink.acceptNext();
    await b.drain();
    assert.deepEqual(
      (await sink.items()).flat().map(i => i.ordinal),
      [0, 1, 2],
    );
    assert.deepEqual(
      member.settled.map(([, failure]) => failure),
      [undefined, undefined, undefined],
    );
  });

  it('fails a batch that waited for a slot past the timeout, never publishing it', async () => {
    const sink = new FakeSink('hold');
    const b = batcher(sink, {
      maxItems: 1,
      publishMaxConcurrent: 1,
      publishTimeoutMs: 30,
    });
    const first = new RecordingMember();
    const second = new RecordingMember();

    b.add(entry('a', 0), first);
    b.add(entry('b', 0), second);
    await b.drain();

    assert.equal(sink.given.length, 1);
    const failure = second.settled[0]?.[1];
    assert.ok(failure instanceof PublishTimeoutError);
    assert.match(failure.message, /waited 30 ms .*PUBLISH_MAX_CONCURRENT=1/);
    // The first one timed out too, but its sink still holds the slot.
    assert.ok(first.settled[0]?.[1] instanceof PublishTimeoutError);
    sink.acceptNext();
  });

  it('holds flow control bytes until the batch settles', async () => {
    const sink = new FakeSink('hold');
    const flowControl = new FlowControl(1 << 20);
    const b = batcher(sink, {maxItems: 2, flowControl});
    const member = new RecordingMember();

    b.add(entry('s', 0, 1000), member);
    b.add(entry('s', 1, 1000), member);
    const held = flowControl.bytes;
    await sleep(0);
    sink.acceptNext();
    await b.drain();

    assert.ok(held >= 2000, `${held}`);
    assert.equal(flowControl.bytes, 0);
  });

  it('compresses with gzip when configured, named in the attributes', async () => {
    const sink = new FakeSink();
    const b = batcher(sink, {compression: 'gzip', maxItems: 2});
    const member = new RecordingMember();

    b.add(entry('s', 0, 5000), member);
    b.add(entry('s', 1, 5000), member);
    await b.drain();

    assert.equal(sink.batches[0]?.attributes['content-encoding'], 'gzip');
    assert.ok((sink.batches[0]?.data.byteLength ?? 0) < 5000);
    assert.equal((await sink.items()).flat().length, 2);
  });
});
