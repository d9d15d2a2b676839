/**
 * Node flags the gateway process runs with wherever it runs: the
 * Dockerfile's CMD, `npm run gateway`, the local stack, the reliability
 * tests and the benchmark (a test keeps the Dockerfile and package.json in
 * step with this list).
 *
 * --max-semi-space-size=16 caps V8's young generation at 16 MB per
 * semi-space. V8 sizes it from the machine's memory: on a 24 GB machine it
 * grew to 64 MB semi-spaces under a 10^6-item load and the gateway peaked
 * at 280-300 MB RSS, 182 MB with the cap; CPU per item did not change
 * within the run-to-run noise (docs/benchmark.md). The gateway's garbage
 * is short-lived per-item objects, which a smaller young generation
 * collects just as well.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=16',
];
