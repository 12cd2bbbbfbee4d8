/**
 * Loads DAG files: imports a module (TypeScript runs through tsx in our processes) and collects
 * every DAG it exports. A file that fails to import or exports no DAG becomes an import error
 * with a one-line message, never a crash.
 */
import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DagDefinition, isDagDefinition } from '#core/definition.ts';
import type { ImportError } from '#core/model.ts';

export type LoadResult =
  | { dags: DagDefinition[]; error: null }
  | { dags: []; error: Pick<ImportError, 'fileloc' | 'message'> };

const DAG_FILE = /\.(ts|mts|js|mjs)$/;

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (
    text
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? 'unknown error'
  );
}

function collect(value: unknown, into: DagDefinition[]): void {
  if (isDagDefinition(value)) into.push(value);
  else if (Array.isArray(value)) for (const item of value) collect(item, into);
}

/** `cacheBust` re-imports a file that changed (the watcher of `updraft dev`). */
async function loadDagFile(path: string, opts: { cacheBust?: string } = {}): Promise<LoadResult> {
  const fileloc = resolve(path);
  let module: Record<string, unknown>;
  try {
    const url = pathToFileURL(fileloc);
    if (opts.cacheBust) url.searchParams.set('v', opts.cacheBust);
    module = (await import(url.href)) as Record<string, unknown>;
  } catch (error) {
    return { dags: [], error: { fileloc, message: `cannot load ${basename(fileloc)}: ${firstLine(error)}` } };
  }
  const dags: DagDefinition[] = [];
  for (const value of Object.values(module)) collect(value, dags);
  const unique = [...new Set(dags)];
  if (unique.length === 0) {
    return {
      dags: [],
      error: { fileloc, message: `${basename(fileloc)} exports no DAG (export default dag(...))` },
    };
  }
  return { dags: unique, error: null };
}

/** Every DAG file directly in `dir` (files starting with `_` and `.d.ts` files are skipped). */
async function loadDagDir(
  dir: string,
): Promise<{ dags: { dag: DagDefinition; fileloc: string }[]; errors: ImportError[] }> {
  const names = (await readdir(dir))
    .filter((n) => DAG_FILE.test(n) && !n.startsWith('_') && !n.endsWith('.d.ts'))
    .sort();
  const dags: { dag: DagDefinition; fileloc: string }[] = [];
  const errors: ImportError[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const result = await loadDagFile(join(dir, name));
    if (result.error) {
      errors.push({ ...result.error, at: 0 });
      continue;
    }
    for (const dag of result.dags) {
      const first = seen.get(dag.dagId);
      if (first) {
        errors.push({
          fileloc: resolve(dir, name),
          message: `DAG ${dag.dagId} is already defined in ${basename(first)}`,
          at: 0,
        });
        continue;
      }
      seen.set(dag.dagId, resolve(dir, name));
      dags.push({ dag, fileloc: resolve(dir, name) });
    }
  }
  return { dags, errors };
}

export { loadDagDir, loadDagFile };
