/**
 * What the API and the console ask about DAGs: the list with each DAG's next run and latest runs,
 * one DAG with its current version, import errors, and pausing. Pausing is an optimistic-lock write
 * on the DAG record, retried when someone else changed the record first (the scheduler moving the
 * next run, a new version registering).
 */
import { NotFoundError } from '#core/errors.ts';
import type { DagManifest } from '#core/manifest.ts';
import type { DagRecord, DagRun, DagVersionInfo, ImportError } from '#core/model.ts';
import type { Page, PageRequest } from '#ports';
import type { ServiceDeps } from './deps.ts';
import { filteredPage, pageOf } from './paging.ts';

export interface DagSummary {
  record: DagRecord;
  /** The current version's manifest (schedule, tags, tasks); null if it cannot be read. */
  manifest: DagManifest | null;
  /** The latest runs, newest logical date first. */
  recentRuns: DagRun[];
}

/** Times a pause or unpause re-reads the record after losing its optimistic lock. */
const MAX_LOCK_ATTEMPTS = 10;

async function manifestOf(deps: ServiceDeps, record: DagRecord): Promise<DagManifest | null> {
  try {
    return await deps.manifests.get(record.dagId, record.currentVersion);
  } catch {
    return null;
  }
}

async function summaryOf(deps: ServiceDeps, record: DagRecord, recentRuns: number): Promise<DagSummary> {
  const [manifest, runs] = await Promise.all([
    manifestOf(deps, record),
    recentRuns > 0 ? deps.store.listRuns(record.dagId, { limit: recentRuns }) : null,
  ]);
  return { record, manifest, recentRuns: runs?.items ?? [] };
}

/**
 * DAGs in id order. Deactivated DAGs (their file was deleted) are left out unless `includeInactive`
 * (Airflow's `only_active`); `paused` and `tag` filter further.
 */
async function listDagSummaries(
  deps: ServiceDeps,
  query: PageRequest & { recentRuns?: number; includeInactive?: boolean; paused?: boolean; tag?: string },
): Promise<Page<DagSummary>> {
  const page = await filteredPage(
    (request) => deps.store.listDags(request),
    query,
    (d) => (query.includeInactive || d.active) && (query.paused === undefined || d.paused === query.paused),
  );
  const summaries = await Promise.all(page.items.map((d) => summaryOf(deps, d, query.recentRuns ?? 5)));
  const tag = query.tag;
  return {
    items: tag === undefined ? summaries : summaries.filter((s) => s.manifest?.tags.includes(tag)),
    next: page.next,
  };
}

async function requireDag(deps: ServiceDeps, dagId: string): Promise<DagRecord> {
  const record = await deps.store.getDag(dagId);
  if (!record) throw new NotFoundError(`DAG ${dagId} not found`);
  return record;
}

async function getDagSummary(deps: ServiceDeps, dagId: string, recentRuns = 5): Promise<DagSummary> {
  return summaryOf(deps, await requireDag(deps, dagId), recentRuns);
}

/** One registered version of a DAG (runs keep the version they started with). */
async function getDagVersion(deps: ServiceDeps, dagId: string, version: string): Promise<DagManifest> {
  await requireDag(deps, dagId);
  const manifest = await deps.store.getDagVersion(dagId, version);
  if (!manifest) throw new NotFoundError(`DAG ${dagId} has no version ${version}`);
  return manifest;
}

/**
 * Pauses or unpauses a DAG. Unpausing wakes the scheduler for it at once, so a run that came due
 * while it was paused is created now rather than at the next sweep. Setting the state it already has
 * changes nothing.
 */
async function setDagPaused(
  deps: ServiceDeps,
  input: { dagId: string; paused: boolean; now: number },
): Promise<DagRecord> {
  for (let attempt = 0; attempt < MAX_LOCK_ATTEMPTS; attempt += 1) {
    const record = await requireDag(deps, input.dagId);
    if (record.paused === input.paused) return record;
    if (await deps.store.updateDag(record.dagId, record.updatedAt, { paused: input.paused }, input.now)) {
      deps.logger.info(input.paused ? 'DAG paused' : 'DAG unpaused', { dagId: record.dagId });
      if (!input.paused) await deps.events.publish([{ type: 'tick', dagId: record.dagId }]);
      return (await deps.store.getDag(record.dagId)) ?? { ...record, paused: input.paused };
    }
  }
  throw new Error(`DAG ${input.dagId} kept changing while it was being ${input.paused ? '' : 'un'}paused`);
}

/** The registered versions of a DAG, newest first, saying which one new runs use. */
async function listDagVersions(
  deps: ServiceDeps,
  dagId: string,
  request: PageRequest,
): Promise<Page<DagVersionInfo & { current: boolean }>> {
  const record = await requireDag(deps, dagId);
  const versions = await deps.store.listDagVersions(dagId);
  const order = new Map(versions.map((v, i) => [v.version, i]));
  return pageOf(
    versions.map((v) => ({ ...v, current: v.version === record.currentVersion })),
    request,
    (v) => [order.get(v.version) ?? 0, v.version],
  );
}

/** Import errors (files that failed to load), by file. */
async function listImportErrors(deps: ServiceDeps, request: PageRequest): Promise<Page<ImportError>> {
  return pageOf(await deps.store.listImportErrors(), request, (e) => [e.fileloc]);
}

export {
  getDagSummary,
  getDagVersion,
  listDagSummaries,
  listDagVersions,
  listImportErrors,
  requireDag,
  setDagPaused,
};
