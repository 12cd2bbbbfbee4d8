/**
 * DAG records (optimistic lock on `updatedAt`), their immutable manifest versions (written once,
 * compressed or split when large) and import errors.
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
import { dagUnchanged, itemAbsent } from './conditions.ts';
import { dagItem, importErrorItem, importErrorOf, versionItems, versionOf } from './entities.ts';
import type { Items } from './items.ts';
import { keys, pad } from './keys.ts';
import { N, num, recordOf, S } from './marshal.ts';

const unchangedSince = (updatedAt: number) => ({
  condition: dagUnchanged,
  values: { ':expectedUpdatedAt': N(updatedAt) },
});

async function getDag(items: Items, dagId: string): Promise<DagRecord | null> {
  const item = await items.get(keys.dag(dagId));
  return item ? recordOf<DagRecord>(item, 'dag') : null;
}

async function registerDagVersion(
  items: Items,
  manifest: DagManifest,
  opts: { now: number; fileloc: string | null; warnings: string[] },
): Promise<{ dag: DagRecord; newVersion: boolean }> {
  const { head, parts } = versionItems(manifest);
  head.registeredAt = N(opts.now);
  // Parts first, head last: a reader that finds the head finds every part.
  for (const part of parts) await items.put(part, { condition: itemAbsent });
  const newVersion = await items.put(head, { condition: itemAbsent });
  for (;;) {
    const existing = await getDag(items, manifest.dagId);
    const dag = registeredDag(existing, manifest, opts);
    const written = existing
      ? await items.put(dagItem(dag), unchangedSince(existing.updatedAt))
      : await items.put(dagItem(dag), { condition: itemAbsent });
    if (written) return { dag, newVersion };
  }
}

async function getDagVersion(items: Items, dagId: string, version: string): Promise<DagManifest | null> {
  const head = await items.get(keys.version(dagId, version));
  if (!head) return null;
  if (head.parts?.N === undefined) return versionOf(head);
  const parts = await items.queryAll(
    { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :parts)', ConsistentRead: true },
    { ':pk': S(keys.dag(dagId).pk), ':parts': S(`VER#${version}#PART#`) },
  );
  return versionOf(head, parts);
}

/** Version heads only (not their parts, nor their data): hash from the sort key, and registration time. */
async function listDagVersions(items: Items, dagId: string): Promise<DagVersionInfo[]> {
  const heads = await items.queryAll(
    {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :versions)',
      ProjectionExpression: 'sk, registeredAt',
    },
    { ':pk': S(keys.dag(dagId).pk), ':versions': S('VER#') },
  );
  return heads
    .map((item) => item.sk?.S ?? '')
    .map((sk, i) => ({ sk, registeredAt: num(heads[i]!.registeredAt) ?? null }))
    .filter(({ sk }) => !sk.includes('#PART#'))
    .map(({ sk, registeredAt }) => ({ version: sk.slice('VER#'.length), registeredAt }))
    .sort(byRegistration);
}

async function listDags(items: Items, request: PageRequest = {}): Promise<Page<DagRecord>> {
  const page = await items.query(
    { IndexName: 'byDag', KeyConditionExpression: 'dagPk = :dags', Limit: request.limit ?? 100 },
    { ':dags': S('DAGS') },
    request.cursor,
  );
  return { items: page.items.map((i) => recordOf<DagRecord>(i, 'dag')), next: page.next };
}

async function updateDag(
  items: Items,
  dagId: string,
  expectUpdatedAt: number,
  patch: Partial<DagRecord>,
  now: number,
): Promise<boolean> {
  const dag = await getDag(items, dagId);
  if (!dag || dag.updatedAt !== expectUpdatedAt) return false;
  const next = { ...dag, ...patch, updatedAt: Math.max(now, dag.updatedAt + 1) };
  return items.put(dagItem(next), unchangedSince(expectUpdatedAt));
}

/** A change that must land whatever else changed meanwhile (import errors): re-read and retry. */
async function patchDag(items: Items, dagId: string, patch: Partial<DagRecord>): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const dag = await getDag(items, dagId);
    if (!dag) return;
    if (await updateDag(items, dagId, dag.updatedAt, patch, dag.updatedAt + 1)) return;
  }
  throw new Error(`DAG ${dagId} kept changing while its import error was recorded`);
}

async function listDagsDue(items: Items, now: number, limit: number): Promise<DagRecord[]> {
  const page = await items.query(
    { IndexName: 'active', KeyConditionExpression: 'activePk = :due AND activeSk < :until', Limit: limit },
    { ':due': S('DUE'), ':until': S(pad(now + 1)) },
  );
  return page.items.map((i) => recordOf<DagRecord>(i, 'dag'));
}

async function recordImportError(items: Items, dagId: string | null, error: ImportError): Promise<void> {
  await items.put(importErrorItem(dagId, error));
  if (dagId) await patchDag(items, dagId, { importError: error });
}

async function listImportErrors(items: Items): Promise<ImportError[]> {
  const all = await items.queryAll(
    { IndexName: 'active', KeyConditionExpression: 'activePk = :errors' },
    { ':errors': S('IMPORTERRS') },
  );
  return all.map((i) => {
    const { dagId: _, ...error } = importErrorOf(i);
    return error;
  });
}

async function clearImportError(items: Items, fileloc: string): Promise<void> {
  const item = await items.get(keys.importError(fileloc));
  if (!item) return;
  const { dagId } = importErrorOf(item);
  await items.delete(keys.importError(fileloc));
  if (dagId) await patchDag(items, dagId, { importError: null });
}

export {
  clearImportError,
  getDag,
  getDagVersion,
  listDags,
  listDagsDue,
  listDagVersions,
  listImportErrors,
  patchDag,
  recordImportError,
  registerDagVersion,
  updateDag,
};
