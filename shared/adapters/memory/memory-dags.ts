/**
 * The DAG half of the memory store: DAG records, their manifest versions and import errors. Like
 * task instances (see frozen.ts), DAG records and manifests are stored frozen and handed out as
 * they are: every scheduler pass reads the DAG records it acts on, and a copy per read added up.
 */
import type { DagManifest } from '#core/manifest.ts';
import {
  byRegistration,
  type DagRecord,
  type DagVersionInfo,
  type ImportError,
  registeredDag,
} from '#core/model.ts';
import type { Page, PageRequest } from '#ports';
import { deepFreeze, ownValue } from './frozen.ts';
import { keysetPage } from './paging.ts';

type DagPatch = Partial<
  Pick<DagRecord, 'paused' | 'active' | 'nextRun' | 'lastAutomatedInterval' | 'warnings'>
>;

const copy = <T>(value: T): T => structuredClone(value);

class MemoryDags {
  readonly #dags = new Map<string, DagRecord>();
  readonly #versions = new Map<string, DagManifest>();
  readonly #registeredAt = new Map<string, number>();
  readonly #importErrors = new Map<string, ImportError & { dagId: string | null }>();

  register(
    manifest: DagManifest,
    opts: { now: number; fileloc: string | null; warnings: string[] },
  ): { dag: DagRecord; newVersion: boolean } {
    const versionKey = `${manifest.dagId}@${manifest.hash}`;
    const newVersion = !this.#versions.has(versionKey);
    if (newVersion) {
      // Manifests never change (a version is its content hash): stored frozen, handed out as they are.
      this.#versions.set(versionKey, ownValue(manifest));
      this.#registeredAt.set(versionKey, opts.now);
    }
    const dag = registeredDag(this.#dags.get(manifest.dagId) ?? null, manifest, opts);
    this.#dags.set(dag.dagId, deepFreeze(dag));
    return { dag, newVersion };
  }

  get(dagId: string): DagRecord | null {
    const dag = this.#dags.get(dagId);
    return dag ?? null;
  }

  list(request: PageRequest = {}): Page<DagRecord> {
    const page = keysetPage(this.#dags.values(), request, { keyOf: (d) => [d.dagId], defaultLimit: 100 });
    return page;
  }

  versions(dagId: string): DagVersionInfo[] {
    const out: DagVersionInfo[] = [];
    for (const [key, manifest] of this.#versions) {
      if (manifest.dagId === dagId)
        out.push({ version: manifest.hash, registeredAt: this.#registeredAt.get(key) ?? null });
    }
    return out.sort(byRegistration);
  }

  version(dagId: string, version: string): DagManifest | null {
    const manifest = this.#versions.get(`${dagId}@${version}`);
    return manifest ?? null;
  }

  /** Conditional on `updatedAt`; the lock moves even when two updates share an instant (virtual time). */
  update(dagId: string, expectUpdatedAt: number, patch: DagPatch, now: number): boolean {
    const dag = this.#dags.get(dagId);
    if (!dag || dag.updatedAt !== expectUpdatedAt) return false;
    this.#dags.set(
      dagId,
      deepFreeze({ ...dag, ...copy(patch), updatedAt: Math.max(now, dag.updatedAt + 1) }),
    );
    return true;
  }

  /** Active, unpaused DAGs with a due next run, oldest first (a scan: DAGs number in the thousands at most). */
  due(now: number, limit: number): DagRecord[] {
    const due: DagRecord[] = [];
    for (const dag of this.#dags.values()) {
      if (dag.active && !dag.paused && dag.nextRun !== null && dag.nextRun.runAfter <= now) due.push(dag);
    }
    return due
      .sort((a, b) => a.nextRun!.runAfter - b.nextRun!.runAfter || (a.dagId < b.dagId ? -1 : 1))
      .slice(0, limit);
  }

  recordImportError(dagId: string | null, error: ImportError): void {
    this.#importErrors.set(error.fileloc, { ...copy(error), dagId });
    const dag = dagId ? this.#dags.get(dagId) : undefined;
    if (dag) this.#dags.set(dag.dagId, deepFreeze({ ...dag, importError: copy(error) }));
  }

  importErrors(): ImportError[] {
    return [...this.#importErrors.values()].map(({ dagId: _, ...error }) => copy(error));
  }

  clearImportError(fileloc: string): void {
    const error = this.#importErrors.get(fileloc);
    this.#importErrors.delete(fileloc);
    const dag = error?.dagId ? this.#dags.get(error.dagId) : undefined;
    if (dag) this.#dags.set(dag.dagId, deepFreeze({ ...dag, importError: null }));
  }
}

export { MemoryDags };
