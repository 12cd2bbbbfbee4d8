/**
 * Property tests for claim selection over random worlds: small pools (some unlimited, one
 * missing), weighted poolSlots, DAG / task / task-in-run limits, executor capacity, random used
 * values and 0–300 candidates. The reference checker below is written from SEMANTICS.md §3 and
 * Updraft's choices, independently of `selectClaims`' internals.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClaimCandidate,
  type ClaimSelection,
  type ClaimState,
  compareClaimOrder,
  selectClaims,
} from '#core/claim.ts';
import type { TiKey, WaitReason } from '#core/model.ts';
import { candidate, label, makeState, runAt } from './claim-fixtures.ts';

interface World {
  candidates: ClaimCandidate[];
  state: ClaimState;
  maxClaims: number;
}

const POOLS = ['p0', 'p1', 'p2', 'p3'];
/** Tasks may name this pool; it never exists. */
const MISSING_POOL = 'nowhere';
const DAGS = ['d0', 'd1', 'd2', 'd3'];
const TASKS = ['t0', 't1', 't2'];
const RUNS = [1, 2, 3];
const MAP_INDEXES = 11;
const ALL_KEYS = Array.from({ length: DAGS.length * TASKS.length * RUNS.length * MAP_INDEXES }, (_, i) => i);

const limitOrNull = fc.option(fc.integer({ min: 1, max: 3 }), { nil: null });

const taskArb = fc.record({
  pool: fc.constantFrom(...POOLS, MISSING_POOL),
  poolSlots: fc.integer({ min: 1, max: 3 }),
  priorityWeight: fc.integer({ min: 0, max: 3 }),
  executor: fc.constantFrom('lambda' as const, 'fargate' as const),
  maxActiveTisPerDag: limitOrNull,
  maxActiveTisPerDagrun: limitOrNull,
});

const worldArb: fc.Arbitrary<World> = fc
  .record({
    pools: fc.tuple(
      ...POOLS.map(() =>
        fc.record({ slots: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 6 })), used: fc.nat(8) }),
      ),
    ),
    dags: fc.tuple(
      ...DAGS.map(() =>
        fc.record({
          maxActiveTasks: fc.integer({ min: 1, max: 5 }),
          used: fc.nat(6),
          tasks: fc.tuple(...TASKS.map(() => fc.record({ def: taskArb, used: fc.nat(3) }))),
        }),
      ),
    ),
    taskRunUsed: fc.array(fc.nat(3), { minLength: DAGS.length * TASKS.length * RUNS.length }),
    /** Each key encodes (dag, task, run, mapIndex -1..9): up to 300 of 396 task instances, in random order. */
    keys: fc.shuffledSubarray(ALL_KEYS, { maxLength: 300 }),
    parallelism: fc.record({ limit: fc.integer({ min: 1, max: 40 }), used: fc.nat(41) }),
    executorFree: fc.record({
      lambda: fc.option(fc.nat(8), { nil: null }),
      fargate: fc.option(fc.nat(8), { nil: null }),
    }),
    maxClaims: fc.nat(60),
  })
  .map((w) => {
    const state = makeState({
      // Used values may exceed the limit (a pool shrunk, a limit lowered): nothing more fits then.
      parallelism: { limit: w.parallelism.limit, used: w.parallelism.used % (w.parallelism.limit + 2) },
      pools: Object.fromEntries(
        POOLS.map((name, i) => {
          const { slots, used } = w.pools[i]!;
          return [name, [slots === -1 ? used : used % (slots + 2), slots]];
        }),
      ),
      executorFree: w.executorFree,
    });
    DAGS.forEach((dagId, d) => {
      const dag = w.dags[d]!;
      state.dagUsed.set(dagId, dag.used % (dag.maxActiveTasks + 2));
      TASKS.forEach((taskId, t) => {
        state.taskUsed.set(`${dagId}/${taskId}`, dag.tasks[t]!.used);
        RUNS.forEach((run, r) => {
          const used = w.taskRunUsed[(d * TASKS.length + t) * RUNS.length + r]!;
          state.taskRunUsed.set(`${dagId}/R${run}/${taskId}`, used);
        });
      });
    });
    const candidates = w.keys.map((key) => {
      const mapIndex = (key % MAP_INDEXES) - 1;
      const run = RUNS[Math.floor(key / MAP_INDEXES) % RUNS.length]!;
      const t = Math.floor(key / (MAP_INDEXES * RUNS.length)) % TASKS.length;
      const d = Math.floor(key / (MAP_INDEXES * RUNS.length * TASKS.length));
      const dag = w.dags[d]!;
      const def = dag.tasks[t]!.def;
      // Fields copied one by one: spreading fast-check's generated records is very slow.
      return candidate(
        {
          dagId: DAGS[d]!,
          taskId: TASKS[t]!,
          run,
          mapIndex,
          pool: def.pool,
          poolSlots: def.poolSlots,
          priorityWeight: def.priorityWeight,
          executor: def.executor,
        },
        {
          dagMaxActiveTasks: dag.maxActiveTasks,
          maxActiveTisPerDag: def.maxActiveTisPerDag,
          maxActiveTisPerDagrun: def.maxActiveTisPerDagrun,
        },
      );
    });
    return { candidates, state, maxClaims: w.maxClaims };
  });

// ——— reference model ———

function byClaimOrder(a: ClaimCandidate, b: ClaimCandidate): number {
  const x = a.ti;
  const y = b.ti;
  const text = (p: string, q: string) => (p === q ? 0 : p < q ? -1 : 1);
  if (x.priorityWeight !== y.priorityWeight) return y.priorityWeight - x.priorityWeight;
  if (x.logicalDate !== y.logicalDate) return x.logicalDate - y.logicalDate;
  return (
    text(x.dagId, y.dagId) || text(x.runId, y.runId) || text(x.taskId, y.taskId) || x.mapIndex - y.mapIndex
  );
}

/** One counter as the store sees it: raised by `amount` only while `used + amount <= limit`. */
interface Constraint {
  key: string;
  amount: number;
  limit: number;
}

/** Every counter a claim of `c` raises, derived from the candidate (not from `holds`). */
function constraintsOf(c: ClaimCandidate, state: ClaimState): Constraint[] {
  const { ti } = c;
  const list: Constraint[] = [
    { key: 'global', amount: 1, limit: state.parallelism.limit },
    { key: `pool/${ti.pool}`, amount: ti.poolSlots, limit: state.pools.get(ti.pool)?.slots ?? 0 },
    { key: `dag/${ti.dagId}`, amount: 1, limit: c.dagMaxActiveTasks },
  ];
  if (c.maxActiveTisPerDag !== null)
    list.push({ key: `task/${ti.dagId}/${ti.taskId}`, amount: 1, limit: c.maxActiveTisPerDag });
  if (c.maxActiveTisPerDagrun !== null)
    list.push({
      key: `taskRun/${ti.dagId}/${ti.runId}/${ti.taskId}`,
      amount: 1,
      limit: c.maxActiveTisPerDagrun,
    });
  const free = state.executorFree[ti.executor];
  if (free !== null) list.push({ key: `executor/${ti.executor}`, amount: 1, limit: free });
  return list;
}

function initialCounters(state: ClaimState): Map<string, number> {
  const used = new Map<string, number>([['global', state.parallelism.used]]);
  for (const [pool, p] of state.pools) used.set(`pool/${pool}`, p.used);
  for (const [dag, n] of state.dagUsed) used.set(`dag/${dag}`, n);
  for (const [task, n] of state.taskUsed) used.set(`task/${task}`, n);
  for (const [taskRun, n] of state.taskRunUsed) used.set(`taskRun/${taskRun}`, n);
  return used;
}

const fits = (used: Map<string, number>, k: Constraint) =>
  k.limit === -1 || (used.get(k.key) ?? 0) + k.amount <= k.limit;

/** What should happen to `c`, given the counters after every claim ordered before it. */
function expectedVerdict(
  c: ClaimCandidate,
  world: World,
  used: Map<string, number>,
  claimsBefore: number,
): 'claim' | 'not reached' | WaitReason {
  const { ti } = c;
  const { state } = world;
  const get = (key: string) => used.get(key) ?? 0;
  if (get('global') >= state.parallelism.limit)
    return { kind: 'parallelism', used: get('global'), limit: state.parallelism.limit };
  if (claimsBefore >= world.maxClaims) return 'not reached';
  const pool = state.pools.get(ti.pool);
  if (!pool) return { kind: 'pool_missing', pool: ti.pool };
  if (pool.slots !== -1 && ti.poolSlots > pool.slots)
    return { kind: 'pool_too_small', pool: ti.pool, needs: ti.poolSlots, slots: pool.slots };
  const [, poolK, dagK, ...rest] = constraintsOf(c, state);
  if (!fits(used, poolK!))
    return {
      kind: 'pool_full',
      pool: ti.pool,
      used: get(poolK!.key),
      slots: pool.slots,
      needs: ti.poolSlots,
    };
  if (!fits(used, dagK!)) return { kind: 'dag_max_active_tasks', used: get(dagK!.key), limit: dagK!.limit };
  for (const k of rest) {
    if (fits(used, k)) continue;
    if (k.key.startsWith('task/'))
      return { kind: 'task_max_active_tis_per_dag', used: get(k.key), limit: k.limit };
    if (k.key.startsWith('taskRun/'))
      return { kind: 'task_max_active_tis_per_dagrun', used: get(k.key), limit: k.limit };
    return { kind: 'executor_capacity', executor: ti.executor };
  }
  return 'claim';
}

const keyLabel = (key: TiKey) => label(key);

/** Walks the candidates in claim order and checks every verdict of `selection` against the model. */
function checkAgainstModel(world: World, selection: ClaimSelection): void {
  const claimed = new Set(selection.claims.map((c) => keyLabel(c.ti)));
  const waits = new Map(selection.waits.map((w) => [keyLabel(w.key), w.reason]));
  expect(claimed.size + waits.size).toBe(selection.claims.length + selection.waits.length);
  const ordered = [...world.candidates].sort(byClaimOrder);
  const used = initialCounters(world.state);
  let claimsBefore = 0;
  const expected: [string, unknown][] = [];
  const actual: [string, unknown][] = [];
  for (const c of ordered) {
    const name = keyLabel(c.ti);
    const verdict = expectedVerdict(c, world, used, claimsBefore);
    expected.push([name, verdict]);
    actual.push([name, claimed.has(name) ? 'claim' : (waits.get(name) ?? 'not reached')]);
    if (verdict !== 'claim') continue;
    for (const k of constraintsOf(c, world.state)) used.set(k.key, (used.get(k.key) ?? 0) + k.amount);
    claimsBefore += 1;
  }
  // isDeepStrictEqual first: vitest's diffing equality is slow on hundreds of entries per run.
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
  expect(selection.claims.map((c) => keyLabel(c.ti))).toEqual(
    ordered.map((c) => keyLabel(c.ti)).filter((n) => claimed.has(n)),
  );
}

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('selectClaims (properties)', () => {
  it('never takes any counter past its limit once the claims are applied', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const selection = selectClaims(world);
        const byTi = new Map(world.candidates.map((c) => [c.ti, c]));
        const used = initialCounters(world.state);
        const raised = new Map<string, number>();
        for (const { ti } of selection.claims) {
          for (const k of constraintsOf(byTi.get(ti)!, world.state)) {
            used.set(k.key, (used.get(k.key) ?? 0) + k.amount);
            raised.set(k.key, k.limit);
          }
        }
        const over = [...raised].filter(([key, limit]) => limit !== -1 && used.get(key)! > limit);
        expect(over).toEqual([]);
        expect(selection.claims.length).toBeLessThanOrEqual(world.maxClaims);
      }),
      { numRuns: 200 },
    );
  });

  it('holds name exactly the counters the claim raises, with their amounts and limits', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const byTi = new Map(world.candidates.map((c) => [c.ti, c]));
        for (const { ti, holds } of selectClaims(world).claims) {
          const expected = constraintsOf(byTi.get(ti)!, world.state).filter(
            (k) => !k.key.startsWith('executor/'),
          );
          expect(holds.map((h) => ({ amount: h.amount, limit: h.limit }))).toEqual(
            expected.map((k) => ({ amount: k.amount, limit: k.limit })),
          );
          expect(holds.map((h) => h.counter.kind)).toEqual(expected.map((k) => k.key.split('/')[0]));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('takes every candidate that fits at its turn, and every one it leaves really did not fit', () => {
    fc.assert(
      fc.property(worldArb, (world) => checkAgainstModel(world, selectClaims(world))),
      { numRuns: 200 },
    );
  });

  it('gives the same answer whatever the input order', () => {
    fc.assert(
      fc.property(worldArb, fc.nat(), (world, seed) => {
        const first = selectClaims(world);
        const again = selectClaims({ ...world, candidates: shuffle(world.candidates, seed) });
        if (!isDeepStrictEqual(again, first)) expect(again).toEqual(first);
      }),
      { numRuns: 200 },
    );
  });

  it('a candidate blocked by its own DAG or task limit changes nothing for the others', () => {
    const blockedBy = fc.constantFrom('dag' as const, 'task' as const, 'taskRun' as const);
    fc.assert(
      fc.property(worldArb, blockedBy, fc.integer({ min: 0, max: 5 }), (world, limit, weight) => {
        // Prepare: a new DAG `x` whose only candidate is at its own limit, in a pool that has room.
        const pool = 'p-open';
        const blocked = candidate(
          { dagId: 'x', taskId: 'hog', pool, priorityWeight: weight, ...runAt(1) },
          {
            dagMaxActiveTasks: 2,
            maxActiveTisPerDag: limit === 'task' ? 1 : null,
            maxActiveTisPerDagrun: limit === 'taskRun' ? 1 : null,
          },
        );
        const base = selectClaims(world);
        const state: ClaimState = {
          ...world.state,
          pools: new Map([...world.state.pools, [pool, { used: 0, slots: 10 }]]),
          dagUsed: new Map([...world.state.dagUsed, ['x', limit === 'dag' ? 2 : 1]]),
          taskUsed: new Map([...world.state.taskUsed, ['x/hog', 1]]),
          taskRunUsed: new Map([...world.state.taskRunUsed, ['x/R1/hog', 1]]),
        };

        // Act
        const withBlocked = selectClaims({ ...world, state, candidates: [blocked, ...world.candidates] });

        // Assess
        const others = {
          claims: withBlocked.claims,
          waits: withBlocked.waits.filter((w) => w.key.dagId !== 'x'),
        };
        if (!isDeepStrictEqual(others, base)) expect(others).toEqual(base);
        const own = withBlocked.waits.find((w) => w.key.dagId === 'x')?.reason.kind;
        expect([
          'dag_max_active_tasks',
          'task_max_active_tis_per_dag',
          'task_max_active_tis_per_dagrun',
          'parallelism',
          undefined,
        ]).toContain(own);
      }),
      { numRuns: 200 },
    );
  });

  it('a lower-priority candidate of another DAG is claimed past a top candidate held by its DAG limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5 }), (held, limit) => {
        const top = Array.from({ length: held }, (_, i) =>
          candidate({ dagId: 'busy', taskId: `t${i}`, priorityWeight: 10 }, { dagMaxActiveTasks: limit }),
        );
        const low = candidate({ dagId: 'quiet', taskId: 'small', priorityWeight: 1 });

        const selection = selectClaims({
          candidates: [low, ...top],
          state: makeState({ dagUsed: { busy: limit } }),
          maxClaims: 1,
        });

        expect(selection.claims.map((c) => label(c.ti))).toEqual(['quiet/R1/small']);
      }),
    );
  });
});

describe('selectClaims order (property)', () => {
  const idArb = fc.constantFrom('a', 'b', 'B', 'ab', 'é', 'a_b');
  const tiArb = fc.record({
    dagId: idArb,
    runId: idArb,
    taskId: idArb,
    mapIndex: fc.integer({ min: -1, max: 3 }),
    priorityWeight: fc.oneof(
      fc.integer({ min: -3, max: 3 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    ),
    // A few instants on a coarse grid, or arbitrary milliseconds (no common step).
    logicalDate: fc.oneof(
      fc.integer({ min: 0, max: 4 }).map((d) => Date.UTC(2026, 0, 1 + d)),
      fc.integer({ min: 0, max: 2 ** 42 }),
    ),
  });

  it('claims everything that fits in exactly the order compareClaimOrder gives', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(tiArb, {
          maxLength: 120,
          selector: (t) => `${t.dagId}/${t.runId}/${t.taskId}/${t.mapIndex}`,
        }),
        (tis) => {
          const candidates = tis.map((t) =>
            candidate(
              {
                dagId: t.dagId,
                runId: t.runId,
                taskId: t.taskId,
                mapIndex: t.mapIndex,
                priorityWeight: t.priorityWeight,
                logicalDate: t.logicalDate,
              },
              { dagMaxActiveTasks: 1_000 },
            ),
          );
          const state = makeState({ parallelism: { used: 0, limit: 1_000 } });

          const claimed = selectClaims({ candidates, state, maxClaims: 1_000 }).claims.map((c) => c.ti);

          const expected = candidates.map((c) => c.ti).sort(compareClaimOrder);
          expect(claimed.map(label)).toEqual(expected.map(label));
        },
      ),
      { numRuns: 200 },
    );
  });
});
