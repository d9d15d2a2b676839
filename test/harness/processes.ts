/**
 * Process control for tests: the local stack's own, so tests and
 * `npm run local` start and stop processes the same way.
 */
export {
  freePort,
  setSignalHandling,
  startProcess,
  waitUntilReady,
  type ManagedProcess,
} from '../../local/processes.js';
