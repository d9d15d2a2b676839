/**
 * Runs the infra scripts the way a user does, and reads back what a dry run
 * printed: one command per line, quoted as infra/lib.sh's print_command
 * quotes (bare words, '...' with '\'' for a quote, or $'...').
 */
import {execFile} from 'node:child_process';
import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {repoRoot} from '../harness/paths.js';

/** What a finished script left behind. */
export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

const SCRIPT_TIMEOUT_MS = 300_000;

/** Path of a file under infra/. */
export function infraPath(name: string): string {
  return join(repoRoot(), 'infra', name);
}

/**
 * Runs `bash infra/<script> ...args` with exactly `env`. Its stdin is an
 * empty pipe, never a terminal, as in CI.
 */
export function runScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<ScriptResult> {
  return new Promise(resolve => {
    const child = execFile(
      'bash',
      [infraPath(script), ...args],
      {env, timeout: SCRIPT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024},
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({code, stdout, stderr});
      },
    );
    // A script that exits at once closes the pipe before end() reaches it;
    // that EPIPE says nothing about the script.
    child.stdin?.on('error', () => {});
    child.stdin?.end();
  });
}

/**
 * A PATH whose gcloud, bq and npm only record that they were called (into
 * the returned log file) and fail, so a dry run that runs anything shows.
 * node stays reachable: the scripts read JSON with it.
 */
export function recordingPath(): {path: string; calls: string} {
  const bin = mkdtempSync(join(tmpdir(), 'infra-bin-'));
  const calls = join(bin, 'calls.log');
  for (const tool of ['gcloud', 'bq', 'npm']) {
    const file = join(bin, tool);
    writeFileSync(file, `#!/bin/sh\necho "${tool} $*" >> '${calls}'\nexit 1\n`);
    chmodSync(file, 0o755);
  }
  const path = [bin, dirname(process.execPath), process.env.PATH ?? ''].join(
    ':',
  );
  return {path, calls};
}

/** Splits dry-run output into commands, each a list of words. */
export function parseCommands(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(splitWords);
}

function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (c === ' ') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed quote in: ${line}`);
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '$' && line.charAt(i + 1) === "'") {
      const [text, end] = ansiCQuoted(line, i + 2);
      word += text;
      i = end;
      inWord = true;
    } else if (c === '\\') {
      word += line.charAt(i + 1);
      i++;
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Reads a $'...' word from `start` (just after the quote) to its end. */
function ansiCQuoted(line: string, start: number): [string, number] {
  const escapes: Record<string, string> = {n: '\n', t: '\t', "'": "'"};
  let text = '';
  for (let i = start; i < line.length; i++) {
    const c = line.charAt(i);
    if (c === "'") return [text, i];
    if (c === '\\') {
      const next = line.charAt(i + 1);
      text += escapes[next] ?? next;
      i++;
    } else {
      text += c;
    }
  }
  throw new Error(`unclosed $'...' in: ${line}`);
}

/** The commands whose leading words are `prefix`, e.g. gcloud run deploy. */
export function commandsStarting(
  commands: string[][],
  ...prefix: string[]
): string[][] {
  return commands.filter(words => prefix.every((p, i) => words[i] === p));
}

/** The value of --name=value in a command, or undefined. */
export function flag(words: string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return words.find(w => w.startsWith(prefix))?.slice(prefix.length);
}

/** Whether a command carries the bare flag --name. */
export function hasFlag(words: string[], name: string): boolean {
  return words.includes(`--${name}`);
}

/**
 * The bq commands of a dry run, each from its subcommand on: bq's global
 * flags (--project_id, --api, --location...) come first and are dropped.
 */
export function bqCommands(commands: string[][], subcommand: string) {
  return commands
    .filter(words => words[0] === 'bq')
    .map(words => words.slice(1).filter(w => !isGlobalBqFlag(w)))
    .filter(words => words[0] === subcommand);
}

function isGlobalBqFlag(word: string): boolean {
  return /^--(project_id|quiet|api|location)(=|$)/.test(word);
}
