/**
 * `--dag-defaults <file>`: the deployment's DAG defaults for a local run (`updraft dev`, `dags
 * list|validate|test`), in the shape of the `Updraft` construct's `dagDefaults` prop, as JSON:
 * `{ "maxActiveRuns": 4, "retries": 2, "retryDelay": "1m" }`. A DAG's own options win over them.
 */
import { readFile } from 'node:fs/promises';
import { type DagDefaults, DEFAULT_DAG_DEFAULTS, resolveDagDefaults } from '#core/dag-defaults.ts';
import { CliError } from '../errors.ts';

/** The file's defaults over Airflow's; no file, Airflow's. A missing or bad file is a usage error. */
async function readDagDefaults(file: string | undefined): Promise<DagDefaults> {
  if (file === undefined) return DEFAULT_DAG_DEFAULTS;
  const text = await readFile(file, 'utf8').catch(() => {
    throw new CliError(`--dag-defaults ${file}: no such file`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const resolved = resolveDagDefaults(json ?? {}, '');
  if (!resolved.ok) {
    const [first, ...more] = resolved.issues;
    const extra = more.length > 0 ? ` (and ${more.length} more)` : '';
    throw new CliError(`${file}: ${first!.field || '(root)'}: ${first!.message}${extra}`);
  }
  return resolved.defaults;
}

const DAG_DEFAULTS_FLAG = [
  '--dag-defaults <file>',
  'JSON of the deployment DAG defaults (maxActiveRuns, maxActiveTasks, maxConsecutiveFailedDagRuns, retries, retryDelay, executionTimeout), as the Updraft construct takes them',
] as const;

export { DAG_DEFAULTS_FLAG, readDagDefaults };
