/** Repository locations for tests; the local stack's own helper. */
export {repoRoot} from '../../local/paths.js';
