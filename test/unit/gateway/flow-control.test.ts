import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {FlowControl} from '../../../gateway/flow-control.js';

function listener() {
  const events: string[] = [];
  return {
    events,
    pause: () => void events.push('pause'),
    resume: () => void events.push('resume'),
  };
}

describe('FlowControl', () => {
  it('pauses every reader once past the cap and resumes them under it', () => {
    const flow = new FlowControl(100);
    const [a, b] = [listener(), listener()];
    flow.register(a);
    flow.register(b);

    flow.acquire(100);
    assert.deepEqual(a.events, []);
    flow.acquire(1);
    flow.acquire(50);
    assert.deepEqual(a.events, ['pause']);
    flow.release(50);
    assert.deepEqual(a.events, ['pause']);
    flow.release(1);

    assert.deepEqual(a.events, ['pause', 'resume']);
    assert.deepEqual(b.events, ['pause', 'resume']);
    assert.equal(flow.bytes, 100);
    assert.equal(flow.peak, 151);
  });

  it('pauses a reader registered while blocked, and forgets one removed', () => {
    const flow = new FlowControl(10);
    const [early, late] = [listener(), listener()];
    const unregister = flow.register(early);
    flow.acquire(11);
    unregister();

    flow.register(late);
    flow.release(11);

    assert.deepEqual(early.events, ['pause']);
    assert.deepEqual(late.events, ['pause', 'resume']);
  });

  it('never counts below zero', () => {
    const flow = new FlowControl(10);

    flow.release(5);

    assert.equal(flow.bytes, 0);
  });
});
