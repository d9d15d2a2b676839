/**
 * Child processes for tests and the local stack: started in their own process
 * group so that stopping one also stops whatever it spawned (gcloud's wrapper
 * runs the Pub/Sub emulator as a java grandchild), and stopped on exit even
 * when a test fails or the run is interrupted.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {connect, createServer} from 'node:net';
import {once} from 'node:events';
import {setTimeout as sleep} from 'node:timers/promises';

/** A started process group and the last lines it printed, for errors. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Last output lines, newest last; kept short so a chatty child is cheap. */
  readonly recentOutput: string[];
  /** Sends a signal to the whole group; false once no member is left. */
  signal(signal: NodeJS.Signals): boolean;
  /**
   * Lets this process exit while the group still runs; the exit hook then
   * kills it. For emulators a test file starts for itself and never stops.
   */
  unref(): void;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the leader exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

const RECENT_LINES = 40;
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

/** Starts `command` in a new process group, capturing its output. */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: {env?: NodeJS.ProcessEnv; cwd?: string; echo?: boolean} = {},
): ManagedProcess {
  installExitHook();
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const recentOutput: string[] = [];
  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      recentOutput.push(line);
      if (options.echo) process.stderr.write(`[${name}] ${line}\n`);
    }
    recentOutput.splice(0, Math.max(0, recentOutput.length - RECENT_LINES));
  };
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);

  const exited = new Promise<number | null>(resolve => {
    child.once('exit', code => resolve(code));
    child.once('error', err => {
      recentOutput.push(`spawn failed: ${err.message}`);
      resolve(null);
    });
  });

  const managed: ManagedProcess = {
    name,
    child,
    recentOutput,
    exited,
    signal(signal) {
      // The group, not the leader: gcloud's wrapper may be gone while its
      // java child still runs, and the group id outlives the leader.
      if (child.pid === undefined) return false;
      try {
        process.kill(-child.pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    unref() {
      child.unref();
      for (const stream of [child.stdout, child.stderr]) {
        (stream as {unref?: () => void} | null)?.unref?.();
      }
    },
    async stop(graceMs = 5_000) {
      live.delete(managed);
      // A stopped (SIGSTOP) group would ignore SIGTERM until continued.
      managed.signal('SIGCONT');
      if (!managed.signal('SIGTERM')) return;
      const timer = setTimeout(() => managed.signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // The leader may exit before its children (gcloud's wrapper does):
      // kill the rest and wait until the group is gone, so its ports are
      // free once stop() resolves.
      const deadline = Date.now() + graceMs;
      while (managed.signal('SIGKILL') && Date.now() < deadline) {
        await sleep(20);
      }
    },
  };
  live.add(managed);
  return managed;
}

/**
 * Polls `probe` until it resolves true, the process exits, or timeoutMs
 * passes; the error carries the process's recent output.
 */
export async function waitUntilReady(
  managed: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void managed.exited.then(code => (exitCode = code ?? -1));

  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(
        `${managed.name} exited with ${exitCode} before it was ready:\n` +
          managed.recentOutput.join('\n'),
      );
    }
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(
    `${managed.name} was not ready after ${timeoutMs} ms:\n` +
      managed.recentOutput.join('\n'),
  );
}

/** Whether a listener could bind `port` on 127.0.0.1 right now. */
export async function isPortFree(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => Promise.reject(err)),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/**
 * Whether something accepts connections on `port` of 127.0.0.1. A connect
 * probe: unlike a trial bind, it cannot steal the port from a starting
 * server.
 */
export async function isListening(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await Promise.race([
      once(socket, 'connect'),
      once(socket, 'error').then(([err]) => Promise.reject(err)),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') {
    throw new Error('could not allocate a port');
  }
  return address.port;
}

let signalHandling: 'kill-and-exit' | 'caller' = 'kill-and-exit';

/**
 * By default a SIGINT, SIGTERM or SIGHUP kills every group still alive and
 * exits, so an interrupted test leaves no emulator behind. A program with its
 * own orderly shutdown (the local stack) takes over with 'caller' before it
 * starts anything, and then stops its processes itself.
 */
export function setSignalHandling(mode: 'kill-and-exit' | 'caller'): void {
  signalHandling = mode;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort for a crash: kill synchronously every group still alive, so
  // no emulator outlives the process that started it.
  process.on('exit', () => {
    for (const managed of live) managed.signal('SIGKILL');
  });
  if (signalHandling === 'caller') return;
  const exitCodes = {SIGHUP: 129, SIGINT: 130, SIGTERM: 143} as const;
  for (const [signal, code] of Object.entries(exitCodes)) {
    process.once(signal, () => {
      for (const managed of live) managed.signal('SIGKILL');
      process.exit(code);
    });
  }
}
