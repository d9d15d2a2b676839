import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {PublishSlots} from '../../../gateway/publish-slots.js';

describe('PublishSlots', () => {
  it('grants up to the limit at once and the rest in the order they asked', async () => {
    const slots = new PublishSlots(2);
    const order: string[] = [];
    assert.equal(await slots.acquire(1_000), true);
    assert.equal(await slots.acquire(1_000), true);
    const third = slots.acquire(1_000).then(ok => order.push(`third ${ok}`));
    const fourth = slots.acquire(1_000).then(ok => order.push(`fourth ${ok}`));
    assert.equal(slots.waitingCount, 2);

    slots.release();
    await third;
    assert.deepEqual(order, ['third true']);
    slots.release();
    await fourth;
    assert.deepEqual(order, ['third true', 'fourth true']);
    assert.equal(slots.activeCount, 2);
  });

  it('answers false after the timeout and gives a later slot to the next', async () => {
    const slots = new PublishSlots(1);
    await slots.acquire(1_000);
    const late = await slots.acquire(10);
    const next = slots.acquire(1_000);

    assert.equal(late, false);
    slots.release();
    assert.equal(await next, true);
    assert.equal(slots.activeCount, 1);
    assert.equal(slots.waitingCount, 0);
  });

  it('refuses a release without a slot held and a limit below one', () => {
    assert.throws(() => new PublishSlots(1).release(), /without a slot/);
    assert.throws(() => new PublishSlots(0), RangeError);
  });
});
