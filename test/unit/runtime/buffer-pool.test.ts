import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {BufferPool} from '../../../runtime/buffer-pool.js';

describe('BufferPool', () => {
  it('lends views of exactly the size asked and reuses a buffer handed back', () => {
    const pool = new BufferPool(1024, 2);
    const a = pool.take(100);
    assert.equal(a.byteLength, 100);
    assert.equal(a.buffer.byteLength, 1024);
    assert.equal(pool.lentCount, 1);

    pool.give(a);
    const b = pool.take(1024);
    assert.equal(b.buffer, a.buffer);
    assert.equal(b.byteLength, 1024);
    assert.equal(pool.freeCount, 0);
  });

  it('never lends one buffer twice at the same time', () => {
    const pool = new BufferPool(64, 4);
    const views = [pool.take(10), pool.take(10), pool.take(10)];
    assert.equal(new Set(views.map(v => v.buffer)).size, 3);
  });

  it('ignores a second give of the same view, so it is not lent out twice', () => {
    const pool = new BufferPool(64, 4);
    const a = pool.take(8);
    pool.give(a);
    pool.give(a);
    assert.equal(pool.freeCount, 1);
    const b = pool.take(8);
    const c = pool.take(8);
    assert.notEqual(b.buffer, c.buffer);
  });

  it('allocates larger requests fresh and never pools them or foreign buffers', () => {
    const pool = new BufferPool(64, 4);
    const big = pool.take(65);
    assert.equal(big.byteLength, 65);
    pool.give(big);
    pool.give(Buffer.alloc(64));
    assert.equal(pool.freeCount, 0);
    assert.equal(pool.lentCount, 0);
  });

  it('keeps at most maxFree buffers when idle', () => {
    const pool = new BufferPool(64, 2);
    const views = [pool.take(1), pool.take(1), pool.take(1)];
    for (const view of views) pool.give(view);
    assert.equal(pool.freeCount, 2);
    assert.equal(pool.lentCount, 0);
  });

  it('refuses sizes that are not positive integers', () => {
    assert.throws(() => new BufferPool(0, 1), RangeError);
    assert.throws(() => new BufferPool(1.5, 1), RangeError);
    assert.throws(() => new BufferPool(8, -1), RangeError);
  });
});
