import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {computeRatios, divide, targetsMet} from '../../../bench/ratios.js';
import {insert, measurement} from './fixtures.js';

describe('computeRatios', () => {
  const complete = [
    measurement('A', '1KiB x8', {serverCpuUsPerItem: 10, itemsPerSecond: 50}),
    measurement('B', '1KiB x8', {serverCpuUsPerItem: 12.5}),
    measurement('C', '1KiB x8', {
      serverCpuUsPerItem: 20,
      emulatorCpuUsPerItem: 5,
      itemsPerSecond: 40,
      messagesPerMillionItems: 2_000,
    }),
    measurement('D', '1KiB x8', {
      serverCpuUsPerItem: 100,
      emulatorCpuUsPerItem: 150,
      messagesPerMillionItems: 1_000_000,
    }),
    // Another point must not be mixed in.
    measurement('A', '1KiB x1', {serverCpuUsPerItem: 1, itemsPerSecond: 1}),
  ];

  it('divides as the issue defines each ratio', () => {
    const ratios = computeRatios(complete, [
      insert('function', 900),
      insert('bare', 1_000),
    ]);

    assert.deepEqual(ratios, {
      'B/A': 0.8,
      'C/A': 0.5,
      'D/C': 10,
      'throughput C/A': 0.8,
      'messages D/C': 500,
      'function/bare': 0.9,
    });
  });

  it('gives null for a ratio whose design did not complete', () => {
    const withoutB = complete.map(m =>
      m.design === 'B' ? {...m, outcome: 'failed' as const} : m,
    );

    const ratios = computeRatios(withoutB, []);

    assert.equal(ratios['B/A'], null);
    assert.equal(ratios['function/bare'], null);
    assert.equal(ratios['C/A'], 0.5);
  });

  it('gives null for D/C when an emulator figure is missing', () => {
    const noEmulator = complete.map(m =>
      m.design === 'C' ? {...m, emulatorCpuUsPerItem: undefined} : m,
    );

    assert.equal(computeRatios(noEmulator, [])['D/C'], null);
  });
});

describe('divide', () => {
  it('refuses a zero denominator', () => {
    assert.equal(divide(1, 0), null);
    assert.equal(divide(undefined, 2), null);
    assert.equal(divide(3, 2), 1.5);
  });
});

describe('targetsMet', () => {
  it('compares each ratio with its lower bound', () => {
    const met = targetsMet({
      'B/A': 0.8,
      'C/A': 0.69,
      'D/C': null,
      'throughput C/A': 1,
      'messages D/C': 299,
      'function/bare': 0.95,
    });

    assert.deepEqual(met, {
      'B/A': true,
      'C/A': false,
      'D/C': null,
      'throughput C/A': true,
      'messages D/C': false,
      'function/bare': true,
    });
  });
});
