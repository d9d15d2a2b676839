import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
  cpuUsBetween,
  groupPids,
  parsePeakRssBytes,
  parseProcStat,
  parseSchedstatNs,
  processCpuSample,
  type CpuSample,
} from '../../../bench/proc-stats.js';

/** A /proc/PID/stat line with the given command, group, utime and stime. */
function statLine(comm: string, pgrp: number, utime: number, stime: number) {
  const after = ['S', '1', String(pgrp), String(pgrp), '0', '-1', '4194560'];
  after.push('100', '0', '0', '0', String(utime), String(stime));
  after.push('0', '0', '20', '0', '12', '0', '4242');
  return `4321 (${comm}) ${after.join(' ')}\n`;
}

describe('parseProcStat', () => {
  it('reads pid, group and user plus system ticks', () => {
    const stat = parseProcStat(statLine('node', 4300, 250, 50));

    assert.deepEqual(stat, {pid: 4321, pgrp: 4300, cpuTicks: 300});
  });

  it('counts fields from the last parenthesis of a command with spaces', () => {
    const stat = parseProcStat(statLine('java (main) x) y', 7, 1, 2));

    assert.deepEqual(stat, {pid: 4321, pgrp: 7, cpuTicks: 3});
  });

  it('throws on text that is not a stat line', () => {
    assert.throws(() => parseProcStat('garbage'), /not a \/proc\/PID\/stat/);
  });

  it('reads this very process', () => {
    const own = parseProcStat(
      statLine('x', process.pid, 0, 0).replace('4321', String(process.pid)),
    );
    assert.equal(own.pid, process.pid);
    assert.equal(processCpuSample(2 ** 30), undefined);
  });
});

describe('CPU samples', () => {
  const sample = (ticksUs: number, threads: [string, number][]): CpuSample => ({
    ticksUs,
    threadNs: new Map(threads),
  });

  it('reads nanoseconds on CPU from a schedstat line', () => {
    assert.equal(parseSchedstatNs('196899891 58578579 336\n'), 196_899_891);
    assert.throws(() => parseSchedstatNs('x y z'), /not a schedstat line/);
  });

  it('sums the threads, new ones included, while every old thread lives', () => {
    const before = sample(10_000, [
      ['1/1', 5_000_000],
      ['1/2', 1_000_000],
    ]);
    const after = sample(20_000, [
      ['1/1', 6_500_000],
      ['1/2', 1_250_000],
      ['1/3', 250_000],
    ]);
    assert.equal(cpuUsBetween(before, after), 2_000);
  });

  it('falls back to the ticks when a thread seen before has exited', () => {
    const before = sample(10_000, [
      ['1/1', 5_000_000],
      ['1/2', 1_000_000],
    ]);
    const after = sample(30_000, [['1/1', 6_500_000]]);
    assert.equal(cpuUsBetween(before, after), 20_000);
  });

  it('measures this process as process.cpuUsage() does', () => {
    const before = processCpuSample(process.pid) ?? assert.fail('no sample');
    const usageBefore = process.cpuUsage();
    let spent = 0;
    while (spent < 100_000) {
      spent = process.cpuUsage(usageBefore).user;
    }
    const usage = process.cpuUsage(usageBefore);
    const after = processCpuSample(process.pid) ?? assert.fail('no sample');

    const measured = cpuUsBetween(before, after);
    const reported = usage.user + usage.system;
    // Both count every thread; they differ by the reads themselves and by
    // the kernel's own rounding of utime.
    assert.ok(
      Math.abs(measured - reported) < 15_000,
      `schedstat ${measured} µs, cpuUsage ${reported} µs`,
    );
  });
});

describe('parsePeakRssBytes', () => {
  it('reads VmHWM in bytes', () => {
    const status = 'Name:\tnode\nVmPeak:\t  999 kB\nVmHWM:\t   81240 kB\n';

    assert.equal(parsePeakRssBytes(status), 81_240 * 1024);
  });

  it('is undefined when VmHWM is absent, as for a kernel thread', () => {
    assert.equal(parsePeakRssBytes('Name:\tkthreadd\n'), undefined);
  });
});

describe('groupPids', () => {
  it('finds no process in a group that does not exist', () => {
    assert.deepEqual(groupPids(2 ** 30), []);
  });
});
