import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
  groupPids,
  parsePeakRssBytes,
  parseProcStat,
  processCpuUs,
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
    assert.ok((processCpuUs(process.pid) ?? -1) >= 0);
    assert.equal(processCpuUs(2 ** 30), undefined);
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
