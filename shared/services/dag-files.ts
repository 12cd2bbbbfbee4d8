/**
 * The dag-processor's use cases: a DAG file landed under `dags/` (or changed), or was deleted.
 *
 * A file is built into a bundle (a prebuilt `*.bundle.mjs` is taken as it is), loaded, and each DAG
 * it exports is compiled; only if every step succeeds are its bundles stored and its versions
 * registered. Anything that fails becomes the file's import error (file, message, time) and
 * nothing else changes: the DAG keeps running the version it had. A DAG's version is the hash of
 * its manifest and of its bundle's code, so changing only a task's code is a new version too, and
 * runs keep the version (and code) they started with. DAGs compile over the deployment's DAG
 * defaults (`settings.dagDefaults`), so changing those makes a new version of a file processed
 * after the change; files not uploaded again keep the version they had.
 */
import { createHash } from 'node:crypto';
import { compileDag } from '#core/compile.ts';
import type { DagDefinition } from '#core/definition.ts';
import { DagValidationError } from '#core/errors.ts';
import { contentHash } from '#core/hash.ts';
import type { DagManifest } from '#core/manifest.ts';
import type { DagRecord } from '#core/model.ts';
import type { BundleStore, DagBundler } from '#ports';
import { allPages, type ServiceDeps } from './deps.ts';
import { registerDag } from './register-dag.ts';

export interface DagFileDeps extends ServiceDeps {
  bundles: BundleStore;
  bundler: DagBundler;
}

export type DagFileResult =
  | {
      kind: 'registered';
      /** `created`: the DAG was not known before this file. */
      dags: { dagId: string; version: string; newVersion: boolean; created: boolean; warnings: string[] }[];
    }
  | { kind: 'import_error'; message: string }
  | { kind: 'ignored'; reason: string };

/** Which objects under `dags/` are DAG files. */
const DAG_FILE = /\.(ts|mts|js|mjs)$/;
const PREBUILT = /\.bundle\.m?js$/;

function isDagFile(fileloc: string): boolean {
  const name = fileloc.split('/').at(-1) ?? '';
  return DAG_FILE.test(name) && !name.startsWith('_') && !name.startsWith('.') && !name.endsWith('.d.ts');
}

async function dagsOfFile(deps: ServiceDeps, fileloc: string): Promise<DagRecord[]> {
  const all = await allPages((cursor) => deps.store.listDags({ cursor }));
  return all.filter((d) => d.fileloc === fileloc && d.active);
}

async function importError(deps: ServiceDeps, fileloc: string, message: string, now: number) {
  const owners = await dagsOfFile(deps, fileloc);
  const error = { fileloc, message, at: now };
  if (owners.length === 0) await deps.store.recordImportError(null, error);
  for (const dag of owners) await deps.store.recordImportError(dag.dagId, error);
  deps.logger.warn('DAG file not imported', { fileloc, message });
  return { kind: 'import_error' as const, message };
}

function describeCompileError(error: unknown): string {
  if (error instanceof DagValidationError)
    return error.issues.map((i) => `${i.dagId}: ${i.field}: ${i.message}`).join('; ');
  return error instanceof Error ? error.message : String(error);
}

/** A DAG's version: the hash of its manifest and of its bundle's code (`updraft dags deploy` expects it). */
function bundleVersion(manifestHash: string, code: string): string {
  return contentHash({ manifest: manifestHash, code: createHash('sha256').update(code).digest('hex') });
}

/** The manifests of a file's DAGs, versioned by manifest and code, or the first problem. */
async function compileAll(
  deps: DagFileDeps,
  fileloc: string,
  defs: DagDefinition[],
  code: string,
): Promise<{ ok: true; manifests: DagManifest[] } | { ok: false; message: string }> {
  const name = fileloc.split('/').at(-1);
  if (defs.length === 0) return { ok: false, message: `${name} exports no DAG (export default dag(...))` };
  const seen = new Set<string>();
  const manifests: DagManifest[] = [];
  for (const def of defs) {
    if (seen.has(def.dagId))
      return { ok: false, message: `${name} defines DAG ${def.dagId} twice: give each DAG its own id` };
    seen.add(def.dagId);
    let manifest: DagManifest;
    try {
      // The deployment's DAG defaults sit under the DAG's own options.
      manifest = compileDag(def, deps.settings.dagDefaults);
    } catch (error) {
      return { ok: false, message: describeCompileError(error) };
    }
    const existing = await deps.store.getDag(def.dagId);
    if (existing?.active && existing.fileloc && existing.fileloc !== fileloc)
      return {
        ok: false,
        message: `DAG ${def.dagId} is already defined in ${existing.fileloc}: DAG ids must be unique`,
      };
    manifests.push({ ...manifest, hash: bundleVersion(manifest.hash, code) });
  }
  return { ok: true, manifests };
}

/** A DAG file was created or changed: build, validate and register it, or record why not. */
async function processDagFile(
  deps: DagFileDeps,
  input: { fileloc: string; source: string; now: number },
): Promise<DagFileResult> {
  const { fileloc, source, now } = input;
  if (!isDagFile(fileloc)) return { kind: 'ignored', reason: 'not a DAG file' };
  let code = source;
  if (!PREBUILT.test(fileloc)) {
    const built = await deps.bundler.build(source, fileloc.split('/').at(-1) ?? fileloc);
    if (!built.ok) return importError(deps, fileloc, built.message, now);
    code = built.code;
  }
  const loaded = await deps.bundler.load(code);
  if (!loaded.ok) return importError(deps, fileloc, loaded.message, now);
  const compiled = await compileAll(deps, fileloc, loaded.dags, code);
  if (!compiled.ok) return importError(deps, fileloc, compiled.message, now);

  const dags: Extract<DagFileResult, { kind: 'registered' }>['dags'] = [];
  for (const manifest of compiled.manifests) {
    // The bundle first: a worker may get the new version's first try as soon as it is registered.
    await deps.bundles.putBundle(manifest.dagId, manifest.hash, code);
    const created = (await deps.store.getDag(manifest.dagId)) === null;
    const { newVersion, warnings } = await registerDag(deps, manifest, { now, fileloc });
    dags.push({ dagId: manifest.dagId, version: manifest.hash, newVersion, created, warnings });
  }
  await deps.store.clearImportError(fileloc);
  // DAGs this file used to define and no longer does are gone.
  const kept = new Set(compiled.manifests.map((m) => m.dagId));
  for (const old of await dagsOfFile(deps, fileloc))
    if (!kept.has(old.dagId)) await deactivate(deps, old.dagId, now);
  return { kind: 'registered', dags };
}

/** No new runs; runs already going finish on the version they have. */
async function deactivate(deps: ServiceDeps, dagId: string, now: number): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const dag = await deps.store.getDag(dagId);
    if (!dag?.active) return false;
    if (await deps.store.updateDag(dagId, dag.updatedAt, { active: false, nextRun: null }, now)) {
      await deps.schedules.setNextWakeUp(dagId, null);
      deps.logger.info('DAG deactivated: its file is gone', { dagId, fileloc: dag.fileloc });
      return true;
    }
  }
  return false;
}

/** A DAG file was deleted: its DAGs are deactivated and its import error cleared. */
async function removeDagFile(
  deps: ServiceDeps,
  input: { fileloc: string; now: number },
): Promise<{ deactivated: string[] }> {
  const deactivated: string[] = [];
  for (const dag of await dagsOfFile(deps, input.fileloc))
    if (await deactivate(deps, dag.dagId, input.now)) deactivated.push(dag.dagId);
  await deps.store.clearImportError(input.fileloc);
  return { deactivated };
}

export { bundleVersion, deactivate, isDagFile, processDagFile, removeDagFile };
