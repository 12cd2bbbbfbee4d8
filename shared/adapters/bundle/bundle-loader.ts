/**
 * Loads a built DAG bundle (esbuild-bundler.ts) into this process and returns the DAGs it
 * exports. The code is written once to a file named by its hash under `dir` (os.tmpdir() by
 * default: /tmp in Lambda) and imported from there, so a warm container imports each version once.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DagDefinition, isDagDefinition } from '#core/definition.ts';
import * as sdk from '#sdk/index.ts';
import { REQUIRE_GLOBAL, SDK_GLOBAL } from './esbuild-bundler.ts';

type LoadBundleResult = { ok: true; dags: DagDefinition[] } | { ok: false; message: string };

const DEFAULT_DIR = join(tmpdir(), 'updraft-bundles');

/** What a bundle's `updraft/sdk` and `@aws-sdk/*` resolve to (set once per process). */
function installGlobals(): void {
  const g = globalThis as Record<symbol, unknown>;
  g[Symbol.for(SDK_GLOBAL)] ??= sdk;
  // Resolved from the working directory: the project locally, /var/task (+ NODE_PATH) in Lambda.
  g[Symbol.for(REQUIRE_GLOBAL)] ??= createRequire(join(process.cwd(), 'noop.js'));
}

function collect(value: unknown, into: Set<DagDefinition>): void {
  if (isDagDefinition(value)) into.add(value);
  else if (Array.isArray(value)) for (const item of value) collect(item, into);
}

/** Imports the bundle and collects every DAG it exports (default and named, arrays included). */
async function loadBundle(code: string, opts: { dir?: string } = {}): Promise<LoadBundleResult> {
  installGlobals();
  const dir = opts.dir ?? DEFAULT_DIR;
  const file = join(dir, `${createHash('sha256').update(code).digest('hex').slice(0, 32)}.mjs`);
  let module: Record<string, unknown>;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(file, code);
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return { ok: false, message: `the DAG file threw while loading: ${message}` };
  }
  const found = new Set<DagDefinition>();
  for (const value of Object.values(module)) collect(value, found);
  return { ok: true, dags: [...found] };
}

export { type LoadBundleResult, loadBundle };
