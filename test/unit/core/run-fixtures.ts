/** A running run of a compiled DAG with chosen instance states, for run evaluation, run state and clearing tests. */
import { compileDag } from '#core/compile.ts';
import type { evaluateRun } from '#core/evaluate-run.ts';
import type { DagManifest } from '#core/manifest.ts';
import type { DagRun, TaskInstance } from '#core/model.ts';
import { makeTaskInstances } from '#core/runs.ts';
import type { TiState } from '#core/states.ts';
import { dag } from '#sdk/index.ts';

const NOW = Date.parse('2026-01-05T12:00:00Z');
const noop = async () => null;

function runOf(manifest: DagManifest, patch: Partial<DagRun> = {}): DagRun {
  return {
    dagId: manifest.dagId,
    runId: 'manual__1',
    runType: 'manual',
    state: 'running',
    logicalDate: NOW - 3_600_000,
    dataIntervalStart: NOW - 3_600_000,
    dataIntervalEnd: NOW,
    runAfter: NOW - 3_600_000,
    dagVersion: manifest.hash,
    conf: {},
    backfillId: null,
    backfillOrdinal: null,
    createdAt: NOW - 3_600_000,
    startedAt: NOW - 3_600_000,
    endedAt: null,
    clearNumber: 0,
    note: null,
    ...patch,
  };
}

/** Instances of a run with some states set: `{ a: 'failed' }` (try 1 unless `none`) or `{ a: { ...fields } }`. */
function world(
  manifest: DagManifest,
  states: Record<string, TiState | Partial<TaskInstance>> = {},
  run = runOf(manifest),
) {
  const tis = makeTaskInstances(manifest, run).map((ti) => {
    const s = states[ti.taskId];
    if (s === undefined) return ti;
    return typeof s === 'string' ? { ...ti, state: s, tryNumber: s === 'none' ? 0 : 1 } : { ...ti, ...s };
  });
  return { dag: manifest, run, tis, now: NOW };
}

/** Every instance's state once the evaluation's transitions are applied. */
function statesAfter(evaluation: ReturnType<typeof evaluateRun>, tis: TaskInstance[]) {
  const states = Object.fromEntries(tis.map((ti) => [ti.taskId, ti.state as string]));
  for (const t of evaluation.transitions) states[t.key.taskId] = t.set.state;
  return states;
}

/** a → b → c */
const chain = compileDag(
  dag('chain', {}, (d) => void d.chain(d.task('a', noop), d.task('b', noop), d.task('c', noop))),
);

/** start → [left, right] → join → cleanup (all_done) */
const diamond = compileDag(
  dag('diamond', {}, (d) => {
    d.chain(d.task('start', noop), [d.task('left', noop), d.task('right', noop)], d.task('join', noop));
    d.task('cleanup', { triggerRule: 'all_done' }, noop).after('join');
  }),
);

export { chain, diamond, NOW, noop, runOf, statesAfter, world };
