/**
 * What the benchmark's own server processes share: binding on loopback,
 * announcing readiness on stdout, and a summary line on SIGTERM. The bench
 * reads both lines (see bench/server-runner.ts).
 */
import {Server, ServerCredentials} from '@grpc/grpc-js';

/** The line a server prints once it accepts calls. */
export const READY_MESSAGE = 'bench server ready';

/** The line a server prints on SIGTERM, before it exits. */
export const SUMMARY_MESSAGE = 'bench server summary';

/** Binds `server` to 127.0.0.1 on a free port and announces it. */
export async function bindAndAnnounce(server: Server): Promise<number> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      ServerCredentials.createInsecure(),
      (err, bound) => (err === null ? resolve(bound) : reject(err)),
    ),
  );
  announce(port);
  return port;
}

/** Prints the ready line with the port. */
export function announce(port: number): void {
  process.stdout.write(`${JSON.stringify({message: READY_MESSAGE, port})}\n`);
}

/**
 * On SIGTERM runs `stop`, prints the summary it returns and exits 0; a
 * failing stop exits 1 so the bench sees it.
 */
export function onTerminate(stop: () => Promise<Record<string, number>>) {
  process.once('SIGTERM', () => {
    stop().then(
      summary => {
        process.stdout.write(
          `${JSON.stringify({message: SUMMARY_MESSAGE, ...summary})}\n`,
        );
        process.exit(0);
      },
      err => {
        process.stderr.write(`stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  });
}
