/** Locations inside the repository, independent of where code runs from. */
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {existsSync} from 'node:fs';

/**
 * The repository root: the nearest folder above this file that holds
 * package.json, so it works from test/ sources and from dist/ alike.
 */
export function repoRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('package.json not found');
    folder = parent;
  }
  return folder;
}
