/** Builders shared by the claim tests: task instances, candidates and counter state. */
import type { ClaimCandidate, ClaimState } from '#core/claim.ts';
import { blankTry, DEFAULT_POOL, type TaskInstance } from '#core/model.ts';

const DAY = 86_400_000;
/** R1's logical date (SEMANTICS.md §13: start_date 2016-01-01, daily runs). */
const R1_DATE = Date.parse('2016-01-01T00:00:00Z');

/** Run id and logical date of Rn (n ≥ 1): consecutive daily logical dates. */
function runAt(n: number): { runId: string; logicalDate: number } {
  return { runId: `R${n}`, logicalDate: R1_DATE + (n - 1) * DAY };
}

function makeTi(overrides: Partial<TaskInstance> = {}): TaskInstance {
  return {
    dagId: 'dag',
    runId: 'R1',
    taskId: 'task',
    mapIndex: -1,
    state: 'scheduled',
    tryNumber: 1,
    maxTries: 0,
    priorityWeight: 1,
    pool: DEFAULT_POOL,
    poolSlots: 1,
    executor: 'lambda',
    logicalDate: R1_DATE,
    dagVersion: 'v1',
    holds: [],
    ...blankTry(),
    scheduledAt: R1_DATE,
    ...overrides,
  };
}

/** A candidate in run `run` (1 = R1) with the DAG's and task's limits (defaults: 16, unset, unset). */
function candidate(
  ti: Partial<TaskInstance> & { run?: number },
  limits: Partial<Omit<ClaimCandidate, 'ti'>> = {},
): ClaimCandidate {
  const { run = 1, ...rest } = ti;
  return {
    ti: makeTi({ ...runAt(run), ...rest }),
    dagMaxActiveTasks: 16,
    maxActiveTisPerDag: null,
    maxActiveTisPerDagrun: null,
    ...limits,
  };
}

interface StateSpec {
  parallelism?: { used: number; limit: number };
  /** Pool name → [used, slots]; default: default_pool with 128 slots, none used. */
  pools?: Record<string, [used: number, slots: number]>;
  dagUsed?: Record<string, number>;
  taskUsed?: Record<string, number>;
  taskRunUsed?: Record<string, number>;
  executorFree?: ClaimState['executorFree'];
}

function makeState(spec: StateSpec = {}): ClaimState {
  const pools = spec.pools ?? { [DEFAULT_POOL]: [0, 128] };
  return {
    parallelism: spec.parallelism ?? { used: 0, limit: 32 },
    pools: new Map(Object.entries(pools).map(([name, [used, slots]]) => [name, { used, slots }])),
    dagUsed: new Map(Object.entries(spec.dagUsed ?? {})),
    taskUsed: new Map(Object.entries(spec.taskUsed ?? {})),
    taskRunUsed: new Map(Object.entries(spec.taskRunUsed ?? {})),
    executorFree: spec.executorFree ?? { lambda: null, fargate: null },
  };
}

/** `dagId/runId/taskId[mapIndex]` — compact names for assertions. */
function label(key: { dagId: string; runId: string; taskId: string; mapIndex: number }): string {
  const base = `${key.dagId}/${key.runId}/${key.taskId}`;
  return key.mapIndex === -1 ? base : `${base}[${key.mapIndex}]`;
}

export { candidate, DAY, label, makeState, makeTi, R1_DATE, runAt };
