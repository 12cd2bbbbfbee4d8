/**
 * Claim candidates: a pool's scheduled task instances in claim order, from the `claim` index
 * (partition `POOL#<pool>`, sort key = claim order). Instances the caller excludes because their
 * own DAG or task limit is full are parked on the way (parking.ts), so the next listing reads past
 * nothing; other excluded instances (a paused DAG, a pool too small) are filtered and stay listed.
 */
import type { CounterKey, TaskInstance } from '#core/model.ts';
import type { Page } from '#ports';
import { tiOf } from './entities.ts';
import type { Items } from './items.ts';
import { claimPartition } from './keys.ts';
import { type Item, S } from './marshal.ts';
import { blockersOf, park } from './parking.ts';

/** Items read per listing at most: a listing never turns into a scan, even before anything is parked. */
const MAX_READ = 1000;

export interface CandidateQuery {
  pool: string;
  limit: number;
  cursor?: string | null;
  exclude?: { dagIds?: string[]; tasks?: { dagId: string; taskId: string }[] };
}

/**
 * One page of candidates in claim order, leaving out (and parking, when their counter is full) the
 * excluded DAGs and tasks. Reads at most MAX_READ items; a short page with a cursor means "more".
 */
async function listClaimCandidates(
  items: Items,
  query: CandidateQuery,
  now: number,
): Promise<Page<TaskInstance>> {
  const dagIds = new Set(query.exclude?.dagIds ?? []);
  const tasks = new Set((query.exclude?.tasks ?? []).map((t) => `${t.dagId}/${t.taskId}`));
  const out: TaskInstance[] = [];
  const excluded: { ti: TaskInstance; blockers: CounterKey[] }[] = [];
  let cursor = query.cursor ?? null;
  let read = 0;
  do {
    const page: { items: Item[]; next: string | null } = await items.query(
      {
        IndexName: 'claim',
        KeyConditionExpression: '#claimPk = :pool',
        Limit: Math.min(query.limit - out.length, MAX_READ - read),
      },
      { ':pool': S(claimPartition(query.pool)) },
      cursor,
    );
    read += page.items.length;
    for (const ti of page.items.map(tiOf)) {
      const blockers = blockersOf(ti, dagIds, tasks);
      if (blockers.length > 0) excluded.push({ ti, blockers });
      else out.push(ti);
    }
    cursor = page.next;
  } while (cursor && out.length < query.limit && read < MAX_READ);
  await park(items, query.pool, excluded, now);
  return { items: out, next: cursor };
}

/** Parks the instances a pass read before it knew their own DAG or task limit blocks them (StateStore.setAsideBlocked). */
async function setAsideBlocked(
  items: Items,
  pool: string,
  tis: TaskInstance[],
  exclude: CandidateQuery['exclude'],
  now: number,
): Promise<void> {
  const dagIds = new Set(exclude?.dagIds ?? []);
  const tasks = new Set((exclude?.tasks ?? []).map((t) => `${t.dagId}/${t.taskId}`));
  const blocked = tis
    .filter((ti) => ti.pool === pool && ti.state === 'scheduled')
    .map((ti) => ({ ti, blockers: blockersOf(ti, dagIds, tasks) }))
    .filter((b) => b.blockers.length > 0);
  await park(items, pool, blocked, now);
}

export { listClaimCandidates, MAX_READ, setAsideBlocked };
