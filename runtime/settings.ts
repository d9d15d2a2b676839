/**
 * Declarative settings: each setting is declared once, with its environment
 * variable, default, meaning and validator. A process resolves all of its
 * settings at start-up into one fully typed object, so no code downstream
 * ever handles a missing or unvalidated value.
 */

/** One setting as declared by a component. */
export interface SettingSpec<T> {
  /** Environment variable that sets it. */
  env: string;
  /** What it controls and why the default is what it is. */
  description: string;
  /** Default as written in the environment; undefined makes it required. */
  default?: string;
  /** Turns the raw text into a value or throws a SettingError. */
  parse: (raw: string) => T;
}

/** A specs object: field name to its setting. */
export type SettingSpecs = Record<string, SettingSpec<unknown>>;

/** The resolved value of every setting of a specs object. */
export type ResolvedSettings<S extends SettingSpecs> = {
  [K in keyof S]: S[K] extends SettingSpec<infer T> ? T : never;
};

/** A setting's value was refused; the message names the variable and value. */
export class SettingError extends Error {
  override name = 'SettingError';
}

/**
 * Reads every setting from `env`. Throws one SettingError listing every
 * invalid or missing setting, so a user fixes them all in one go.
 */
export function resolveSettings<S extends SettingSpecs>(
  specs: S,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedSettings<S> {
  const resolved: Record<string, unknown> = {};
  const problems: string[] = [];

  for (const [key, spec] of Object.entries(specs)) {
    const given = env[spec.env];
    const raw = given === undefined || given === '' ? spec.default : given;
    if (raw === undefined) {
      problems.push(`${spec.env} is required: ${spec.description}`);
      continue;
    }
    try {
      resolved[key] = spec.parse(raw);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      problems.push(`${spec.env}=${JSON.stringify(raw)} is invalid: ${reason}`);
    }
  }

  if (problems.length > 0) {
    throw new SettingError(problems.join('; '));
  }
  return resolved as ResolvedSettings<S>;
}

/** Renders the specs as a markdown table for the docs. */
export function settingsTable(specs: SettingSpecs): string {
  const rows = Object.values(specs).map(spec => {
    const shown =
      spec.default === undefined
        ? '*required*'
        : spec.default === ''
          ? '*empty*'
          : `\`${spec.default}\``;
    return `| \`${spec.env}\` | ${shown} | ${spec.description} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join(
    '\n',
  );
}

/** An integer within [min, max]; the bounds are part of the error message. */
export function integer(min: number, max: number): (raw: string) => number {
  return raw => {
    if (!/^-?\d+$/.test(raw.trim())) {
      throw new SettingError('must be a whole number');
    }
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new SettingError(`must be between ${min} and ${max}`);
    }
    return value;
  };
}

/** A non-empty string matching `pattern`, described by `what`. */
export function matching(
  pattern: RegExp,
  what: string,
): (raw: string) => string {
  return raw => {
    if (!pattern.test(raw)) {
      throw new SettingError(`must be ${what}`);
    }
    return raw;
  };
}

/** One of a fixed set of words. */
export function oneOf<const W extends string>(
  ...words: W[]
): (raw: string) => W {
  return raw => {
    const found = words.find(word => word === raw);
    if (found === undefined) {
      throw new SettingError(`must be one of ${words.join(', ')}`);
    }
    return found;
  };
}

/** true/false (also 1/0, yes/no). */
export function boolean(raw: string): boolean {
  const lowered = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(lowered)) return true;
  if (['false', '0', 'no'].includes(lowered)) return false;
  throw new SettingError('must be true or false');
}

/** A host:port pair, as the emulator variables are written. */
export const hostPort = matching(
  /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/,
  'host:port',
);

/** A Google Cloud project id, dataset, table or topic name. */
export const resourceName = matching(
  /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/,
  'a resource name (a letter, then letters, digits, _ . -)',
);
