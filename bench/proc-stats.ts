/**
 * CPU time and peak memory of a process, read from Linux's /proc, so each
 * design's server and the emulator are measured separately from the load
 * generator and from each other. The parsers are pure; the readers tolerate
 * a process that exits between listing and reading.
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

/** CPU microseconds a process has used so far; undefined once it is gone. */
export function processCpuUs(pid: number): number | undefined {
  const stat = readStat(pid);
  return stat === undefined ? undefined : ticksToUs(stat.cpuTicks);
}

/** Peak RSS in bytes of a live process. */
export function processPeakRssBytes(pid: number): number | undefined {
  try {
    return parsePeakRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * CPU microseconds used so far by every live process of group `pgrp`:
 * gcloud's wrapper and the emulator's JVM together.
 */
export function groupCpuUs(pgrp: number): number {
  let ticks = 0;
  for (const pid of groupPids(pgrp)) ticks += readStat(pid)?.cpuTicks ?? 0;
  return ticksToUs(ticks);
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
