/**
 * Pools as operators manage them at run time: how many slots each has, how many are used (by queued
 * and by running task instances), how many are open, and which instances hold them; create, resize
 * and delete. A resize takes effect at the next claim (the scheduler is told at once); shrinking
 * below what is in use is allowed and admits nothing more until usage falls.
 *
 * `used` is the pool's slot counter, the number every claim is checked against; `queued` and
 * `running` are summed from the holders, so at rest `used = queued + running` (DESIGN.md invariant 4),
 * and a difference means a claim or a try end is in flight, or the reconciler has work to do.
 */
import { ConflictError, InputError, NotFoundError } from '#core/errors.ts';
import { DEFAULT_POOL, type Pool, type TaskInstance } from '#core/model.ts';
import type { Page, PageRequest } from '#ports';
import { allPages, type ServiceDeps } from './deps.ts';
import { pageOf } from './paging.ts';

export interface PoolHolder {
  ti: TaskInstance;
  /** Slots of this pool the instance holds. */
  slots: number;
}

export interface PoolStatus {
  pool: Pool;
  /** The pool's slot counter. */
  used: number;
  queued: number;
  running: number;
  /** Slots free for claims; null for an unlimited pool (slots -1). Never below 0. */
  open: number | null;
  holders: PoolHolder[];
}

/** Pool names are ids like DAG and task ids: they appear in keys and in `updraft pools set NAME`. */
const POOL_NAME = /^[A-Za-z0-9_.-]{1,250}$/;

function checkSlots(slots: number): void {
  if (!Number.isInteger(slots) || slots < -1) {
    throw new InputError('slots', 'must be a whole number ≥ 0, or -1 for unlimited');
  }
}

function holdOf(ti: TaskInstance, pool: string): number {
  return ti.holds
    .filter((h) => h.counter.kind === 'pool' && h.counter.pool === pool)
    .reduce((sum, h) => sum + h.amount, 0);
}

async function statusOf(deps: ServiceDeps, pools: Pool[]): Promise<PoolStatus[]> {
  if (pools.length === 0) return [];
  const [counters, holding] = await Promise.all([
    deps.store.readCounters(pools.map((p) => ({ kind: 'pool' as const, pool: p.name }))),
    allPages((cursor) => deps.store.listHoldingTis({ cursor })),
  ]);
  const used = new Map(counters.map((c) => [c.key.kind === 'pool' ? c.key.pool : '', c.used]));
  return pools.map((pool) => {
    const holders = holding
      .map((ti) => ({ ti, slots: holdOf(ti, pool.name) }))
      .filter((h) => h.slots > 0)
      .sort((a, b) => (a.ti.queuedAt ?? 0) - (b.ti.queuedAt ?? 0));
    const sum = (state: TaskInstance['state']) =>
      holders.filter((h) => h.ti.state === state).reduce((n, h) => n + h.slots, 0);
    const usedSlots = used.get(pool.name) ?? 0;
    return {
      pool,
      used: usedSlots,
      queued: sum('queued'),
      running: sum('running'),
      open: pool.slots === -1 ? null : Math.max(0, pool.slots - usedSlots),
      holders,
    };
  });
}

async function listPoolStatus(deps: ServiceDeps, request: PageRequest): Promise<Page<PoolStatus>> {
  const page = pageOf(await deps.store.listPools(), request, (p) => [p.name]);
  return { items: await statusOf(deps, page.items), next: page.next };
}

async function requirePool(deps: ServiceDeps, name: string): Promise<Pool> {
  const pool = await deps.store.getPool(name);
  if (!pool) throw new NotFoundError(`pool ${name} not found`);
  return pool;
}

async function getPoolStatus(deps: ServiceDeps, name: string): Promise<PoolStatus> {
  const [status] = await statusOf(deps, [await requirePool(deps, name)]);
  return status!;
}

async function createPool(
  deps: ServiceDeps,
  input: { name: string; slots: number; description?: string; includeDeferred?: boolean },
): Promise<PoolStatus> {
  if (!POOL_NAME.test(input.name)) {
    throw new InputError('name', 'must be 1–250 letters, digits, _ . or -');
  }
  checkSlots(input.slots);
  const pool: Pool = {
    name: input.name,
    slots: input.slots,
    description: input.description ?? '',
    includeDeferred: input.includeDeferred ?? false,
  };
  if (!(await deps.store.createPool(pool))) {
    throw new ConflictError(`pool ${input.name} already exists: resize it instead`);
  }
  deps.logger.info('pool created', { pool: pool.name, slots: pool.slots });
  await deps.events.publish([{ type: 'pool_changed', pool: pool.name }]);
  return getPoolStatus(deps, pool.name);
}

/** Resizes a pool or changes its description. */
async function updatePool(
  deps: ServiceDeps,
  input: { name: string; slots?: number; description?: string; includeDeferred?: boolean },
): Promise<PoolStatus> {
  const pool = await requirePool(deps, input.name);
  if (input.slots !== undefined) checkSlots(input.slots);
  const next: Pool = {
    ...pool,
    ...(input.slots !== undefined && { slots: input.slots }),
    ...(input.description !== undefined && { description: input.description }),
    ...(input.includeDeferred !== undefined && { includeDeferred: input.includeDeferred }),
  };
  await deps.store.putPool(next);
  if (next.slots !== pool.slots) {
    deps.logger.info('pool resized', { pool: pool.name, from: pool.slots, to: next.slots });
    await deps.events.publish([{ type: 'pool_changed', pool: pool.name }]);
  }
  return getPoolStatus(deps, pool.name);
}

/**
 * Deletes a pool. `default_pool` cannot be deleted, nor can a pool whose slots are held (its
 * holders would end their tries against a pool that is gone): wait for them, or resize it to 0 first.
 */
async function deletePool(deps: ServiceDeps, name: string): Promise<void> {
  if (name === DEFAULT_POOL) throw new ConflictError(`${DEFAULT_POOL} cannot be deleted: resize it instead`);
  const status = await getPoolStatus(deps, name);
  if (status.holders.length > 0 || status.used > 0) {
    throw new ConflictError(
      `pool ${name} is in use (${status.used} slots held by ${status.holders.length} task instances): resize it to 0 and delete it once they finish`,
    );
  }
  if (!(await deps.store.deletePool(name))) throw new NotFoundError(`pool ${name} not found`);
  deps.logger.info('pool deleted', { pool: name });
  await deps.events.publish([{ type: 'pool_changed', pool: name }]);
}

export { createPool, deletePool, getPoolStatus, listPoolStatus, updatePool };
