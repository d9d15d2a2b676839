import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {computeChecks, spread} from '../../../bench/checks.js';
import {measurement} from './fixtures.js';

describe('computeChecks', () => {
  it('reports CPU per item across the item-count series and its spread', () => {
    const checks = computeChecks([
      measurement('B', '10^4 items', {serverCpuUsPerItem: 22}),
      measurement('B', '1KiB x8', {serverCpuUsPerItem: 20}),
      measurement('B', '10^6 items', {serverCpuUsPerItem: 20}),
      measurement('C', '1KiB x64', {serverPeakRssMb: 230}),
    ]);

    assert.deepEqual(checks.cpuFlatness.B?.cpuUsPerItem, [22, 20, 20]);
    assert.ok(Math.abs((checks.cpuFlatness.B?.spreadPercent ?? 0) - 10) < 1e-9);
    assert.equal(checks.gatewayPeakRssMbAt64Streams, 230);
    assert.equal(checks.cpuFlatness.A, undefined);
  });

  it('has no spread when a step of the series is missing', () => {
    const checks = computeChecks([
      measurement('D', '1KiB x8', {serverCpuUsPerItem: 200}),
      measurement('D', '10^6 items', {outcome: 'skipped'}),
    ]);

    assert.deepEqual(checks.cpuFlatness.D?.cpuUsPerItem, [null, 200, null]);
    assert.equal(checks.cpuFlatness.D?.spreadPercent, null);
    assert.equal(checks.gatewayPeakRssMbAt64Streams, null);
  });
});

describe('spread', () => {
  it('is the largest over the smallest, minus one, in percent', () => {
    assert.equal(spread([10, 15, 12]), 50);
    assert.equal(spread([]), null);
  });
});
