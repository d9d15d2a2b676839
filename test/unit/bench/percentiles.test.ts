import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {percentile} from '../../../bench/percentiles.js';

describe('percentile', () => {
  it('takes the nearest rank of unsorted values', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];

    assert.equal(percentile(values, 50), 5);
    assert.equal(percentile(values, 99), 10);
    assert.equal(percentile(values, 0), 1);
  });

  it('is undefined without values', () => {
    assert.equal(percentile([], 50), undefined);
  });
});
