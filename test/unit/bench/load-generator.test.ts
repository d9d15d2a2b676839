import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {ItemMessage} from '../../../generated/items.js';
import {encodeFrames, itemsPerStream} from '../../../bench/load-generator.js';

describe('itemsPerStream', () => {
  it('splits items over streams, the remainder to the first ones', () => {
    assert.deepEqual(itemsPerStream(10, 4), [3, 3, 2, 2]);
    assert.deepEqual(itemsPerStream(8, 8), [1, 1, 1, 1, 1, 1, 1, 1]);
  });
});

describe('encodeFrames', () => {
  it('encodes distinct items that decode to the payload size asked for', () => {
    const frames = encodeFrames(3, 100);

    const items = frames.map(frame => ItemMessage.decode(frame));
    assert.deepEqual(
      items.map(item => item.payload.byteLength),
      [100, 100, 100],
    );
    assert.notDeepEqual(items[0]?.payload, items[1]?.payload);
    assert.match(items[0]?.createdAt ?? '', /^\d{4}-\d\d-\d\dT.*\.\d{6}Z$/);
  });
});
