/**
 * Creating backfills (SEMANTICS.md §9.4, 3.x model): a Backfill record over the schedule slots in
 * [from, to] whose interval has ended; existing runs are skipped or cleared per the reprocess
 * behaviour. Backfill runs start after scheduled runs, under the backfill's own maxActiveRuns, and
 * never count against the DAG's. Runs are created as the window rolls (backfill-window.ts).
 *
 * Creation is idempotent: a request carries an idempotency key (the client's, or one derived from
 * its content), and a request whose key matches a backfill of the DAG gets that backfill back —
 * after finishing whatever an interrupted first attempt left undone — instead of a second one.
 * Backfill ids are numbered per DAG (`<dagId>__<n>`): two requests racing for the same DAG compete
 * for the same id, so "one unfinished backfill per DAG" holds without a lock.
 */
import { createHash } from 'node:crypto';
import { planBackfill } from '#core/backfill.ts';
import { ConflictError, InputError, NotFoundError } from '#core/errors.ts';
import type { Backfill, DagRun, ReprocessBehavior } from '#core/model.ts';
import { runIdFor } from '#core/runs.ts';
import { fillWindow, MAX_BACKFILL_RUNS, orderedSlots, rollBackfills } from './backfill-window.ts';
import type { ServiceDeps } from './deps.ts';

export interface BackfillRequest {
  dagId: string;
  from: number;
  to: number;
  reprocessBehavior?: ReprocessBehavior;
  runBackwards?: boolean;
  maxActiveRuns?: number;
  conf?: Record<string, unknown>;
  dryRun?: boolean;
  /** The same key on a retried request returns the backfill the first one created. @default derived from the request */
  idempotencyKey?: string;
  now: number;
}

export interface BackfillPlanEntry {
  logicalDate: number;
  runId: string;
  action: 'create' | 'clear' | 'skip';
  reason: string | null;
}

export interface BackfillCreation {
  /** Null for a dry run. */
  backfill: Backfill | null;
  /** A dry run: every logical date. Otherwise the ones acted on so far (the window's first fill). */
  plan: BackfillPlanEntry[];
  /** Logical dates not looked at yet: their runs are created as the window rolls. */
  pending: number;
  /** The request matched an existing backfill (a retry): nothing new was created. */
  replayed: boolean;
}

const unfinished = (b: Backfill) => b.completedAt === null && b.cancelledAt === null;

/** What makes two requests the same backfill. */
function requestKey(r: BackfillRequest, maxActiveRuns: number): string {
  const canonical = JSON.stringify([
    r.dagId,
    r.from,
    r.to,
    r.reprocessBehavior ?? 'none',
    r.runBackwards ?? false,
    maxActiveRuns,
    sortKeys(r.conf ?? {}),
  ]);
  return `sha256:${createHash('sha256').update(canonical).digest('hex').slice(0, 32)}`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  return value;
}

function sameRequest(b: Backfill, r: BackfillRequest, maxActiveRuns: number): boolean {
  return (
    b.from === r.from &&
    b.to === r.to &&
    b.reprocessBehavior === (r.reprocessBehavior ?? 'none') &&
    b.runBackwards === (r.runBackwards ?? false) &&
    b.maxActiveRuns === maxActiveRuns &&
    JSON.stringify(sortKeys(b.conf)) === JSON.stringify(sortKeys(r.conf ?? {}))
  );
}

/**
 * The backfill a request is a retry of: with the client's key, any backfill of the DAG with that
 * key (a different request under the same key is refused); with a derived key, an unfinished one
 * (the same range asked again after it finished is a new backfill).
 */
function replayOf(existing: Backfill[], request: BackfillRequest, key: string, maxActiveRuns: number) {
  const match = existing.find((b) => b.idempotencyKey === key && (request.idempotencyKey || unfinished(b)));
  if (match && request.idempotencyKey && !sameRequest(match, request, maxActiveRuns))
    throw new ConflictError(
      `idempotencyKey ${request.idempotencyKey} was used for another request (backfill ${match.backfillId}): use a new key`,
    );
  return match ?? null;
}

async function dryRunPlan(
  deps: ServiceDeps,
  request: BackfillRequest,
  slots: ReturnType<typeof orderedSlots>,
): Promise<BackfillPlanEntry[]> {
  const existing = new Map<number, DagRun>();
  for (const slot of slots) {
    const run = await deps.store.findRunByLogicalDate(request.dagId, slot.logicalDate);
    if (run) existing.set(slot.logicalDate, run);
  }
  return planBackfill({
    slots,
    existing,
    reprocessBehavior: request.reprocessBehavior ?? 'none',
    runBackwards: false,
    now: request.now,
  }).map((e) => ({
    logicalDate: e.info.logicalDate,
    runId: e.existing?.runId ?? runIdFor('backfill', e.info.logicalDate),
    action: e.action,
    reason: e.reason,
  }));
}

async function createBackfill(deps: ServiceDeps, request: BackfillRequest): Promise<BackfillCreation> {
  const { store } = deps;
  const record = await store.getDag(request.dagId);
  if (!record?.active) throw new NotFoundError(`DAG ${request.dagId} not found`);
  if (request.from > request.to) throw new InputError('from', 'must not be after to');
  const maxActiveRuns = request.maxActiveRuns ?? 10;
  if (!Number.isInteger(maxActiveRuns) || maxActiveRuns < 1) {
    throw new InputError('maxActiveRuns', 'must be a whole number ≥ 1');
  }
  if (request.idempotencyKey !== undefined && !/^[\w.:-]{1,128}$/.test(request.idempotencyKey))
    throw new InputError('idempotencyKey', 'must be 1–128 letters, digits, _ . : or -');
  const dag = await deps.manifests.get(record.dagId, record.currentVersion);
  const range = {
    from: request.from,
    to: request.to,
    runBackwards: request.runBackwards ?? false,
    createdAt: request.now,
  };
  const slots = orderedSlots(dag.schedule, range);
  if (slots.length > MAX_BACKFILL_RUNS) {
    throw new InputError(
      'to',
      `the range holds more than ${MAX_BACKFILL_RUNS} runs; split it into smaller backfills`,
    );
  }
  if (slots.length === 0) {
    throw new InputError(
      'from',
      'no schedule interval in this range has ended yet: backfills cover past intervals only',
    );
  }
  if (request.dryRun) {
    return { backfill: null, plan: await dryRunPlan(deps, request, slots), pending: 0, replayed: false };
  }

  const key = request.idempotencyKey ?? requestKey(request, maxActiveRuns);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const existing = await store.listBackfills(request.dagId);
    const replay = replayOf(existing, request, key, maxActiveRuns);
    if (replay) {
      // Finish what an interrupted first attempt left undone (nothing, usually); create nothing twice.
      const step = await fillWindow(deps, replay, request.now);
      return { backfill: step.backfill, plan: [], pending: pendingOf(step.backfill), replayed: true };
    }
    const open = existing.find(unfinished);
    if (open) {
      throw new ConflictError(
        `DAG ${request.dagId} already has an unfinished backfill (${open.backfillId}): wait for it or cancel it first`,
      );
    }
    const backfill: Backfill = {
      backfillId: `${request.dagId}__${existing.length + 1 + attempt}`,
      dagId: request.dagId,
      from: request.from,
      to: request.to,
      reprocessBehavior: request.reprocessBehavior ?? 'none',
      runBackwards: range.runBackwards,
      maxActiveRuns,
      conf: request.conf ?? {},
      createdAt: request.now,
      completedAt: null,
      cancelledAt: null,
      skipped: [],
      skippedCount: 0,
      idempotencyKey: key,
      dagVersion: dag.hash,
      planned: slots.length,
      materialized: 0,
      revision: 0,
    };
    const { created } = await store.createBackfill(backfill);
    // Lost the id to a concurrent request: look again (it may be this request's twin).
    if (!created) continue;
    const step = await fillWindow(deps, backfill, request.now, 0);
    await deps.events.publish([{ type: 'tick', dagId: request.dagId }]);
    deps.logger.info('backfill created', { backfillId: backfill.backfillId, planned: backfill.planned });
    return {
      backfill: step.backfill,
      plan: step.entries,
      pending: pendingOf(step.backfill),
      replayed: false,
    };
  }
  throw new ConflictError(`DAG ${request.dagId}: backfills are being created concurrently; try again`);
}

const pendingOf = (b: Backfill) => Math.max(0, b.planned - b.materialized);

/** After runs finished: rolls their backfills' windows and completes the finished ones. */
async function completeBackfills(deps: ServiceDeps, finished: DagRun[], now: number): Promise<void> {
  await rollBackfills(deps, finished, now);
}

export { completeBackfills, createBackfill };
