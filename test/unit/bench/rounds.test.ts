import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {medianRun} from '../../../bench/rounds.js';
import type {Measurement} from '../../../bench/results-model.js';

function run(cpu: number, extra: Partial<Measurement> = {}): Measurement {
  return {
    design: 'C',
    point: '1KiB x8',
    outcome: 'ok',
    payloadBytes: 1024,
    streams: 8,
    items: 100_000,
    serverCpuUsPerItem: cpu,
    itemsPerSecond: 1_000_000 / cpu,
    ...extra,
  };
}

describe('medianRun', () => {
  it('keeps the whole run with the median server CPU and lists every run', () => {
    const m = medianRun([run(26), run(17), run(20)]);

    assert.equal(m.serverCpuUsPerItem, 20);
    assert.equal(m.itemsPerSecond, 50_000);
    assert.equal(
      m.note,
      'median of 3 runs by server CPU (26.0, 17.0, 20.0 µs/item)',
    );
  });

  it('takes the lower middle of an even count and keeps an earlier note', () => {
    const m = medianRun([run(4, {note: 'capped'}), run(3, {note: 'capped'})]);

    assert.equal(m.serverCpuUsPerItem, 3);
    assert.match(m.note ?? '', /^capped; median of 2 runs/);
  });

  it('reports a run that did not finish rather than the median of the rest', () => {
    const failed = run(0, {outcome: 'failed', note: 'stream failed'});
    delete failed.serverCpuUsPerItem;

    assert.equal(medianRun([run(10), failed, run(12)]), failed);
  });

  it('returns a single run unchanged and refuses none', () => {
    const only = run(9);
    assert.equal(medianRun([only]), only);
    assert.throws(() => medianRun([]), /no runs/);
  });
});
