/**
 * Creates the dataset, the two tables and the dedup view from the one
 * schema definition in infra/schema/, for local runs and tests (a
 * deployment creates them with infra/ scripts from the same files). The
 * function itself never creates anything at run time: a missing table is
 * an operator's problem, reported as a failed event.
 */
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {BigQuery, TableField, TableMetadata} from '@google-cloud/bigquery';

/** Names of everything ensureTables creates. */
export interface TableNames {
  projectId: string;
  dataset: string;
  table: string;
  errorsTable: string;
  dedupView: string;
}

interface TableDefinition {
  schema?: string;
  view?: string;
  description: string;
  timePartitioning?: {type: string; field: string};
  clustering?: {fields: string[]};
}

/** The definitions in infra/schema/tables.json, by default table name. */
interface Definitions {
  items: TableDefinition;
  items_errors: TableDefinition;
  items_dedup: TableDefinition;
}

/** The folder of the schema files, found from this module's location. */
export function schemaFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(folder, 'infra', 'schema');
    if (existsSync(join(candidate, 'tables.json'))) return candidate;
    const parent = dirname(folder);
    if (parent === folder)
      throw new Error('infra/schema/tables.json not found');
    folder = parent;
  }
}

/** The fields of a schema file (items.json, items_errors.json). */
export function readSchemaFields(file: string): TableField[] {
  return JSON.parse(readFileSync(join(schemaFolder(), file), 'utf8'));
}

/**
 * The dedup view's SQL for `names`. The file's placeholders are the
 * settings' variable names, `${PROJECT_ID}`, `${BIGQUERY_DATASET}` and
 * `${BIGQUERY_TABLE}`, as infra/setup.sh fills them too.
 */
export function dedupViewQuery(names: TableNames): string {
  const definitions = readDefinitions();
  const file = definitions.items_dedup.view ?? 'items_dedup.sql';
  return readFileSync(join(schemaFolder(), file), 'utf8')
    .replaceAll('${PROJECT_ID}', names.projectId)
    .replaceAll('${BIGQUERY_DATASET}', names.dataset)
    .replaceAll('${BIGQUERY_TABLE}', names.table);
}

/**
 * Creates whatever is missing; what exists is left as it is, so running it
 * again, or concurrently, is harmless.
 */
export async function ensureTables(
  bigquery: BigQuery,
  names: TableNames,
): Promise<void> {
  const definitions = readDefinitions();
  const dataset = bigquery.dataset(names.dataset, {
    projectId: names.projectId,
  });
  await ignoreExisting(dataset.create());

  await Promise.all([
    ignoreExisting(
      dataset.createTable(names.table, tableMetadata(definitions.items)),
    ),
    ignoreExisting(
      dataset.createTable(
        names.errorsTable,
        tableMetadata(definitions.items_errors),
      ),
    ),
  ]);

  await ignoreExisting(
    dataset.createTable(names.dedupView, {
      description: definitions.items_dedup.description,
      view: {query: dedupViewQuery(names), useLegacySql: false},
    }),
  );
}

function readDefinitions(): Definitions {
  return JSON.parse(
    readFileSync(join(schemaFolder(), 'tables.json'), 'utf8'),
  ) as Definitions;
}

function tableMetadata(definition: TableDefinition): TableMetadata {
  if (definition.schema === undefined) {
    throw new Error(`table "${definition.description}" has no schema file`);
  }
  return {
    description: definition.description,
    schema: {fields: readSchemaFields(definition.schema)},
    timePartitioning: definition.timePartitioning,
    clustering: definition.clustering,
  };
}

async function ignoreExisting(creation: Promise<unknown>): Promise<void> {
  try {
    await creation;
  } catch (err) {
    const code = (err as {code?: unknown}).code;
    if (code !== 409) throw err;
  }
}
