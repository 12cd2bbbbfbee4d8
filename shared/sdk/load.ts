/**
 * Loads DAG files: imports a module (TypeScript runs through tsx in our processes) and collects
 * every DAG it exports, default and named, arrays included. A file that fails to import or
 * exports no DAG becomes an import error with a one-line message, never a crash or a stack trace.
 */
import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DagDefinition, isDagDefinition } from '#core/definition.ts';
import type { ImportError } from '#core/model.ts';

export type LoadError = Pick<ImportError, 'fileloc' | 'message'>;
export type LoadResult = { dags: DagDefinition[]; error: null } | { dags: []; error: LoadError };

export interface LoadedDir {
  /** DAGs in file-name order, each with the file that defines it. */
  dags: { dag: DagDefinition; fileloc: string }[];
  /** Files that could not be imported, exported no DAG, or redefined a DAG id (`at` is 0: not yet recorded). */
  errors: ImportError[];
}

const DAG_FILE = /\.(ts|mts|js|mjs)$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes in bundler messages.
const ANSI = /\u001b\[[0-9;]*m/g;
const TRANSFORM_FAILED = /^Transform failed with \d+ errors?:?$/;

/** The one line of an import failure worth showing: the message, or a syntax error with its position. */
function oneLine(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(ANSI, '');
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const first = lines[0];
  if (first === undefined) return error instanceof Error ? error.name : 'unknown error';
  if (!TRANSFORM_FAILED.test(first) || lines.length < 2) return first;
  const rest = lines.slice(1).join('\n');
  const esbuild = /:(\d+):(\d+): ERROR: (.+)/.exec(rest);
  if (esbuild) return `syntax error at line ${esbuild[1]}:${esbuild[2]}: ${esbuild[3]}`;
  const what = lines[1]!.replace(/^\[[A-Z_]+\]\s*/, '');
  const at = /:(\d+):(\d+)\b/.exec(rest);
  return at ? `syntax error at line ${at[1]}:${at[2]}: ${what}` : `syntax error: ${what}`;
}

function collect(value: unknown, into: Set<DagDefinition>): void {
  if (isDagDefinition(value)) into.add(value);
  else if (Array.isArray(value)) for (const item of value) collect(item, into);
}

/** Two DAGs of one file with the same id, as a message; null when every id is unique. */
function duplicateIn(dags: DagDefinition[], file: string): string | null {
  const seen = new Set<string>();
  for (const dag of dags) {
    if (seen.has(dag.dagId)) return `${file} defines DAG ${dag.dagId} twice: give each DAG its own id`;
    seen.add(dag.dagId);
  }
  return null;
}

/**
 * Imports one DAG file and returns the DAGs it exports. `cacheBust` re-imports a file that changed
 * (the watcher of `updraft dev`); without it a file already imported is not read again.
 */
async function loadDagFile(path: string, opts: { cacheBust?: string } = {}): Promise<LoadResult> {
  const fileloc = resolve(path);
  const file = basename(fileloc);
  let module: Record<string, unknown>;
  try {
    const url = pathToFileURL(fileloc);
    if (opts.cacheBust) url.searchParams.set('v', opts.cacheBust);
    module = (await import(url.href)) as Record<string, unknown>;
  } catch (error) {
    return { dags: [], error: { fileloc, message: `cannot load ${file}: ${oneLine(error)}` } };
  }
  const found = new Set<DagDefinition>();
  for (const value of Object.values(module)) collect(value, found);
  const dags = [...found];
  if (dags.length === 0)
    return { dags: [], error: { fileloc, message: `${file} exports no DAG (export default dag(...))` } };
  const duplicate = duplicateIn(dags, file);
  if (duplicate) return { dags: [], error: { fileloc, message: duplicate } };
  return { dags, error: null };
}

/**
 * Every DAG file directly in `dir` (`*.ts`, `*.mts`, `*.js`, `*.mjs`; files starting with `_` and
 * `.d.ts` files are skipped), in name order. A DAG id defined by an earlier file is kept there and
 * the later file's DAG is reported as an import error.
 */
async function loadDagDir(dir: string): Promise<LoadedDir> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter(
      (e) => e.isFile() && DAG_FILE.test(e.name) && !e.name.startsWith('_') && !e.name.endsWith('.d.ts'),
    )
    .map((e) => e.name)
    .sort();
  const dags: LoadedDir['dags'] = [];
  const errors: ImportError[] = [];
  const definedIn = new Map<string, string>();
  for (const name of names) {
    const fileloc = resolve(dir, name);
    const result = await loadDagFile(join(dir, name));
    if (result.error) {
      errors.push({ ...result.error, at: 0 });
      continue;
    }
    for (const dag of result.dags) {
      const first = definedIn.get(dag.dagId);
      if (first) {
        errors.push({
          fileloc,
          message: `DAG ${dag.dagId} is already defined in ${basename(first)}: DAG ids must be unique`,
          at: 0,
        });
        continue;
      }
      definedIn.set(dag.dagId, fileloc);
      dags.push({ dag, fileloc });
    }
  }
  return { dags, errors };
}

export { loadDagDir, loadDagFile };
