/**
 * Benchmark of the pure claim selection: 100,000 scheduled task instances across 50 pools and 500
 * DAGs, one `selectClaims` pass choosing up to 1,000. Target: < 50 ms per pass.
 * Run with `node --import tsx bench/core-claim.ts`, or through the bench runner.
 */
import { pathToFileURL } from 'node:url';
import { type ClaimCandidate, type ClaimSelection, type ClaimState, selectClaims } from '#core/claim.ts';
import { blankTry, type TaskInstance } from '#core/model.ts';
import { mulberry32 } from '#simulator/timeline.ts';

const CANDIDATES = 100_000;
const POOLS = 50;
const DAGS = 500;
const MAX_CLAIMS = 1_000;
const WARMUP_RUNS = 3;
const TIMED_RUNS = 9;
const TARGET_MS = 50;
const SEED = 0x5eed;
const DAY = 86_400_000;
const FIRST_DATE = Date.parse('2026-01-01T00:00:00Z');

interface DagShape {
  dagId: string;
  maxActiveTasks: number;
  tasks: {
    taskId: string;
    pool: string;
    poolSlots: number;
    priorityWeight: number;
    executor: 'lambda' | 'fargate';
    mapped: number;
    maxActiveTisPerDag: number | null;
    maxActiveTisPerDagrun: number | null;
  }[];
}

function scheduledTi(
  dag: DagShape,
  task: DagShape['tasks'][number],
  run: number,
  mapIndex: number,
): TaskInstance {
  return {
    dagId: dag.dagId,
    runId: `scheduled__${run}`,
    taskId: task.taskId,
    mapIndex,
    state: 'scheduled',
    tryNumber: 1,
    maxTries: 0,
    priorityWeight: task.priorityWeight,
    pool: task.pool,
    poolSlots: task.poolSlots,
    executor: task.executor,
    logicalDate: FIRST_DATE + run * DAY,
    dagVersion: 'v1',
    holds: [],
    ...blankTry(),
    scheduledAt: FIRST_DATE + (run + 1) * DAY,
  };
}

/** A busy deployment: varied priorities and limits, some pools nearly full, a few missing. */
function buildWorld(): { candidates: ClaimCandidate[]; state: ClaimState } {
  const random = mulberry32(SEED);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const poolNames = Array.from({ length: POOLS }, (_, i) => (i === 0 ? 'default_pool' : `pool_${i}`));
  const pools: ClaimState['pools'] = new Map();
  for (const name of poolNames.slice(0, POOLS - 2)) {
    const slots = random() < 0.1 ? -1 : int(4, 256);
    const nearlyFull = slots !== -1 && random() < 0.3;
    pools.set(name, { slots, used: nearlyFull ? slots - int(0, 2) : int(0, slots === -1 ? 50 : slots / 2) });
  }
  // The last two pool names are used by tasks but never created.
  const dags: DagShape[] = Array.from({ length: DAGS }, (_, d) => ({
    dagId: `dag_${String(d).padStart(3, '0')}`,
    maxActiveTasks: int(4, 32),
    tasks: Array.from({ length: int(5, 15) }, (_, t) => ({
      taskId: `task_${t}`,
      pool: poolNames[int(0, POOLS - 1)]!,
      poolSlots: random() < 0.9 ? 1 : int(2, 4),
      priorityWeight: int(1, 20),
      executor: random() < 0.8 ? 'lambda' : 'fargate',
      mapped: random() < 0.1 ? int(2, 8) : 0,
      maxActiveTisPerDag: random() < 0.3 ? int(1, 8) : null,
      maxActiveTisPerDagrun: random() < 0.1 ? int(1, 4) : null,
    })),
  }));
  const specs: { dag: DagShape; task: DagShape['tasks'][number]; run: number; mapIndex: number }[] = [];
  for (let run = 0; specs.length < CANDIDATES; run += 1) {
    for (const dag of dags) {
      for (const task of dag.tasks) {
        const count = Math.min(Math.max(task.mapped, 1), CANDIDATES - specs.length);
        for (let i = 0; i < count; i += 1)
          specs.push({ dag, task, run, mapIndex: task.mapped === 0 ? -1 : i });
      }
    }
  }
  // Store order is not claim order. Objects are built in arrival order, as a store read would.
  for (let i = specs.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [specs[i], specs[j]] = [specs[j]!, specs[i]!];
  }
  const candidates = specs.map(({ dag, task, run, mapIndex }) => ({
    ti: scheduledTi(dag, task, run, mapIndex),
    dagMaxActiveTasks: dag.maxActiveTasks,
    maxActiveTisPerDag: task.maxActiveTisPerDag,
    maxActiveTisPerDagrun: task.maxActiveTisPerDagrun,
  }));
  const state: ClaimState = {
    parallelism: { used: 2_000, limit: 10_000 },
    pools,
    dagUsed: new Map(dags.map((dag) => [dag.dagId, int(0, dag.maxActiveTasks)])),
    taskUsed: new Map(),
    taskRunUsed: new Map(),
    executorFree: { lambda: null, fargate: 400 },
  };
  for (const dag of dags) {
    for (const task of dag.tasks) {
      if (task.maxActiveTisPerDag !== null)
        state.taskUsed.set(`${dag.dagId}/${task.taskId}`, int(0, task.maxActiveTisPerDag));
    }
  }
  return { candidates, state };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Times `TIMED_RUNS` passes after `WARMUP_RUNS` warm-up passes. */
function timePasses(input: Parameters<typeof selectClaims>[0]): {
  times: number[];
  selection: ClaimSelection;
} {
  let selection = selectClaims(input);
  for (let i = 1; i < WARMUP_RUNS; i += 1) selection = selectClaims(input);
  const times: number[] = [];
  for (let i = 0; i < TIMED_RUNS; i += 1) {
    const start = performance.now();
    selection = selectClaims(input);
    times.push(performance.now() - start);
  }
  return { times, selection };
}

/**
 * Median time of one `selectClaims` pass choosing 1,000 of 100,000 (parallelism has room, so the
 * walk stops at maxClaims), after warm-up; prints nothing. Also times the pass where parallelism
 * fills at the 1,000th claim, as the claim service calls it, so every remaining candidate is
 * ordered and told it waits for parallelism (the full O(n log n) walk).
 */
async function benchClaim(): Promise<Record<string, string | number>> {
  const { candidates, state } = buildWorld();
  const bounded = timePasses({ candidates, state, maxClaims: MAX_CLAIMS });
  const fullState = { ...state, parallelism: { used: 0, limit: MAX_CLAIMS } };
  const full = timePasses({ candidates, state: fullState, maxClaims: MAX_CLAIMS });
  const medianMs = median(bounded.times);
  return {
    candidates: candidates.length,
    pools: POOLS,
    dags: DAGS,
    maxClaims: MAX_CLAIMS,
    claimed: bounded.selection.claims.length,
    waiting: bounded.selection.waits.length,
    runs: TIMED_RUNS,
    'median ms/pass': round(medianMs),
    'min ms/pass': round(Math.min(...bounded.times)),
    'max ms/pass': round(Math.max(...bounded.times)),
    target: `< ${TARGET_MS} ms (${medianMs < TARGET_MS ? 'met' : 'MISSED'})`,
    'parallelism-full waiting': full.selection.waits.length,
    'parallelism-full median ms/pass': round(median(full.times)),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await benchClaim();
  for (const [name, value] of Object.entries(figures)) console.log(`${name.padEnd(32)} ${value}`);
}

export { benchClaim };
