/** Polling for tests that wait on something another process does. */
import {setTimeout as sleep} from 'node:timers/promises';

/** Resolves once `condition` holds; fails naming `what` after timeoutMs. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await sleep(10);
  }
}
