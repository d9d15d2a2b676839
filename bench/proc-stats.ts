/**
 * CPU time and peak memory of a process, read from Linux's /proc, so each
 * design's server and the emulator are measured separately from the load
 * generator and from each other. The parsers are pure; the readers tolerate
 * a process that exits between listing and reading.
 *
 * CPU comes from each thread's /proc/PID/task/TID/schedstat, which counts
 * nanoseconds on CPU, rather than from utime+stime in /proc/PID/stat, which
 * counts 10 ms ticks: a 10^4-item point uses 0.1-0.5 s of server CPU, so
 * ticks alone put several percent of noise into it. A thread that exits
 * takes its schedstat with it, so when a thread seen before is gone after,
 * the delta falls back to the ticks, which do keep dead threads' time.
 */
import {execFileSync} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';

/** Fields of /proc/PID/stat the benchmark uses. */
export interface ProcStat {
  pid: number;
  /** Process group id. */
  pgrp: number;
  /** User plus system time in clock ticks, all threads included. */
  cpuTicks: number;
}

/**
 * Parses /proc/PID/stat. The command name (field 2) is in parentheses and
 * may itself hold spaces and parentheses, so fields are counted from the
 * last closing parenthesis.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) {
    throw new Error(`not a /proc/PID/stat line: ${text.slice(0, 80)}`);
  }
  const pid = Number(text.slice(0, open).trim());
  // After ")": state(3) ppid(4) pgrp(5) ... utime(14) stime(15).
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(rest[n - 3]);
  const stat = {pid, pgrp: field(5), cpuTicks: field(14) + field(15)};
  if (!Number.isFinite(stat.pgrp) || !Number.isFinite(stat.cpuTicks)) {
    throw new Error(`unreadable /proc/PID/stat line: ${text.slice(0, 80)}`);
  }
  return stat;
}

/** Peak resident set size (VmHWM) in bytes from /proc/PID/status. */
export function parsePeakRssBytes(statusText: string): number | undefined {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(statusText);
  return match === null ? undefined : Number(match[1]) * 1024;
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (USER_HZ), almost always 100. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond !== undefined) return ticksPerSecond;
  try {
    const text = execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'});
    const value = Number(text.trim());
    ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** First field of a schedstat line: nanoseconds spent on a CPU. */
export function parseSchedstatNs(text: string): number {
  const ns = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isFinite(ns) || ns < 0) {
    throw new Error(`not a schedstat line: ${text.slice(0, 80)}`);
  }
  return ns;
}

/** What one reading of a process (or a group of them) used so far. */
export interface CpuSample {
  /** utime+stime as microseconds: coarse, but dead threads included. */
  ticksUs: number;
  /** "pid/tid" -> nanoseconds on CPU of each live thread. */
  threadNs: Map<string, number>;
}

/** CPU used so far by a process; undefined once it is gone. */
export function processCpuSample(pid: number): CpuSample | undefined {
  const stat = readStat(pid);
  if (stat === undefined) return undefined;
  const sample: CpuSample = {
    ticksUs: ticksToUs(stat.cpuTicks),
    threadNs: new Map(),
  };
  addThreads(pid, sample.threadNs);
  return sample;
}

/**
 * CPU used so far by every live process of group `pgrp`: gcloud's wrapper
 * and the emulator's JVM together.
 */
export function groupCpuSample(pgrp: number): CpuSample {
  const sample: CpuSample = {ticksUs: 0, threadNs: new Map()};
  for (const pid of groupPids(pgrp)) {
    const stat = readStat(pid);
    if (stat === undefined) continue;
    sample.ticksUs += ticksToUs(stat.cpuTicks);
    addThreads(pid, sample.threadNs);
  }
  return sample;
}

/**
 * CPU microseconds used between two samples of the same process or group:
 * from the threads' nanosecond counters when every thread of `before` is
 * still there, else from the ticks.
 */
export function cpuUsBetween(before: CpuSample, after: CpuSample): number {
  let ns = 0;
  for (const [thread, afterNs] of after.threadNs) {
    ns += afterNs - (before.threadNs.get(thread) ?? 0);
  }
  for (const thread of before.threadNs.keys()) {
    if (!after.threadNs.has(thread)) return after.ticksUs - before.ticksUs;
  }
  if (after.threadNs.size === 0) return after.ticksUs - before.ticksUs;
  return ns / 1_000;
}

/** Peak RSS in bytes of a live process. */
export function processPeakRssBytes(pid: number): number | undefined {
  try {
    return parsePeakRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Largest peak RSS among the live processes of group `pgrp`. */
export function groupPeakRssBytes(pgrp: number): number | undefined {
  let peak: number | undefined;
  for (const pid of groupPids(pgrp)) {
    const rss = processPeakRssBytes(pid);
    if (rss !== undefined && (peak === undefined || rss > peak)) peak = rss;
  }
  return peak;
}

/** Pids of the live processes whose group is `pgrp`. */
export function groupPids(pgrp: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.pgrp === pgrp) pids.push(stat.pid);
  }
  return pids;
}

/** Adds each live thread's schedstat of `pid`; none if unreadable. */
function addThreads(pid: number, into: Map<string, number>): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
      into.set(`${pid}/${tid}`, parseSchedstatNs(text));
    } catch {
      // The thread exited after the listing; cpuUsBetween sees it missing.
    }
  }
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function ticksToUs(ticks: number): number {
  return (ticks * 1_000_000) / clockTicksPerSecond();
}
