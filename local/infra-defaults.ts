/**
 * The deployment's defaults, read from infra/lib.sh where each is declared
 * once (`setting NAME 'default'`). The local stack takes its resource names
 * and its subscription's delivery policy from here, so that what runs on a
 * laptop is what a deployment creates.
 */
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {repoRoot} from './paths.js';

let cached: Map<string, string> | undefined;

/** Every `setting NAME 'default'` declared in infra/lib.sh. */
export function infraDefaults(): ReadonlyMap<string, string> {
  if (cached !== undefined) return cached;
  const text = readFileSync(join(repoRoot(), 'infra', 'lib.sh'), 'utf8');
  cached = new Map(
    [...text.matchAll(/^setting ([A-Z_][A-Z0-9_]*) '([^']*)'$/gm)].map(
      match => [match[1] ?? '', match[2] ?? ''],
    ),
  );
  return cached;
}

/** The default infra/lib.sh declares for `name`; throws if it has none. */
export function infraDefault(name: string): string {
  const value = infraDefaults().get(name);
  if (value === undefined || value === '') {
    throw new Error(`infra/lib.sh declares no default for ${name}`);
  }
  return value;
}
