import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import {
  type DownstreamEvaluation,
  evaluateDownstream,
  firstReads,
  probeReads,
} from '#core/evaluate-downstream.ts';
import { evaluateRun } from '#core/evaluate-run.ts';
import { type DagManifest, TRIGGER_RULES, type TriggerRule } from '#core/manifest.ts';
import type { TaskInstance } from '#core/model.ts';
import { isUnfinished, type TiState } from '#core/states.ts';
import { dag } from '#sdk/index.ts';
import { diamond, NOW, noop, runOf, world } from './run-fixtures.ts';

/** The narrow look at `ended`, reading by task id from `tis` until it needs nothing more. */
function lookFrom(
  manifest: DagManifest,
  tis: TaskInstance[],
  ended: string[],
  run = runOf(manifest),
  opts: { probes?: boolean } = {},
) {
  const byTask = new Map(tis.map((ti) => [ti.taskId, ti]));
  const known = new Map<string, TaskInstance | null>();
  const read = (ids: string[]) => {
    for (const id of ids) known.set(id, byTask.get(id) ?? null);
  };
  read(firstReads(manifest, ended) ?? []);
  if (opts.probes) read(probeReads(manifest, ended));
  let rounds = 0;
  for (;;) {
    const look: DownstreamEvaluation = evaluateDownstream({ dag: manifest, run, ended, known, now: NOW });
    if (look.kind !== 'need') return { look, reads: known.size, rounds };
    read(look.taskIds);
    rounds += 1;
  }
}

const moves = (look: DownstreamEvaluation) =>
  look.kind === 'evaluated' ? look.transitions.map((t) => [t.key.taskId, t.set.state]) : [];

/** a, b, c → join (with `rule`) → after */
function fanIn(rule: TriggerRule) {
  return compileDag(
    dag(`fan_in_${rule}`, {}, (d) => {
      const join = d.task('join', { triggerRule: rule }, noop);
      for (const id of ['a', 'b', 'c']) d.task(id, noop).before(join);
      d.task('after', noop).after(join);
    }),
  );
}

describe('evaluateDownstream', () => {
  it('reads only the ended task, its downstream and their upstream', () => {
    expect(firstReads(diamond, ['left'])?.sort()).toEqual(['join', 'left', 'right']);
    expect(firstReads(fanIn('all_success'), ['a'])?.sort()).toEqual(['a', 'b', 'c', 'join']);
  });

  it('keeps a task with several upstreams waiting while only one of them has finished', () => {
    const manifest = fanIn('all_success');
    const { tis } = world(manifest, { a: 'success', b: 'running', c: 'scheduled' });
    const { look } = lookFrom(manifest, tis, ['a']);
    expect(look).toEqual({
      kind: 'evaluated',
      transitions: [],
      waits: [
        {
          key: { dagId: manifest.dagId, runId: 'manual__1', taskId: 'join', mapIndex: -1 },
          reason: { kind: 'upstream_pending', pending: ['b', 'c'] },
        },
      ],
      // b is running: proof the run is not finished, without reading `after`.
      running: true,
    });
  });

  it.each([
    { rule: 'all_done', states: { a: 'failed', b: 'success', c: 'skipped' }, expected: 'scheduled' },
    { rule: 'all_done', states: { a: 'failed', b: 'running', c: 'success' }, expected: null },
    { rule: 'one_failed', states: { a: 'failed', b: 'running', c: 'scheduled' }, expected: 'scheduled' },
    { rule: 'one_failed', states: { a: 'success', b: 'success', c: 'success' }, expected: 'skipped' },
    { rule: 'none_failed', states: { a: 'skipped', b: 'success', c: 'success' }, expected: 'scheduled' },
    {
      rule: 'none_failed',
      states: { a: 'upstream_failed', b: 'running', c: 'scheduled' },
      expected: 'upstream_failed',
    },
    {
      rule: 'all_success',
      states: { a: 'failed', b: 'running', c: 'scheduled' },
      expected: 'upstream_failed',
    },
  ] as const)('applies $rule to the join when a ends ($expected)', ({ rule, states, expected }) => {
    const manifest = fanIn(rule);
    const { tis } = world(manifest, states);
    const { look } = lookFrom(manifest, tis, ['a']);
    const join = moves(look).find(([taskId]) => taskId === 'join');
    expect(join?.[1] ?? null).toBe(expected);
    // The narrow look decides what the whole-run evaluation decides for the same instances.
    const whole = evaluateRun({ dag: manifest, run: runOf(manifest), tis, now: NOW });
    expect(moves(look)).toEqual(whole.transitions.map((t) => [t.key.taskId, t.set.state]));
  });

  it('follows a skip or upstream_failed through the downstream, reading a level at a time', () => {
    const manifest = fanIn('all_success');
    const { tis } = world(manifest, { a: 'failed', b: 'running', c: 'scheduled' });
    const { look, rounds } = lookFrom(manifest, tis, ['a']);
    expect(moves(look)).toEqual([
      ['join', 'upstream_failed'],
      ['after', 'upstream_failed'],
    ]);
    expect(rounds).toBe(1);
  });

  it('cannot tell whether the run is finished when its last leaf ends: undecided', () => {
    const manifest = fanIn('all_success');
    const { tis } = world(manifest, {
      a: 'success',
      b: 'success',
      c: 'success',
      join: 'success',
      after: 'success',
    });
    const { look } = lookFrom(manifest, tis, ['after']);
    expect(look).toEqual({ kind: 'evaluated', transitions: [], waits: [], running: false });
  });

  it('probes two other instances when a leaf ends, and takes a running one as proof', () => {
    const flat = compileDag(
      dag('flat', {}, (d) => {
        for (const id of ['t0', 't1', 't2', 't3']) d.task(id, noop);
      }),
    );
    expect(probeReads(flat, ['t1'])).toEqual(['t2', 't3']);
    expect(probeReads(flat, ['t3'])).toEqual(['t0']);
    expect(probeReads(diamond, ['left'])).toEqual([]);
    const { tis } = world(flat, { t0: 'success', t1: 'success', t2: 'running', t3: 'scheduled' });
    expect(lookFrom(flat, tis, ['t1']).look).toMatchObject({ running: false });
    expect(lookFrom(flat, tis, ['t1'], runOf(flat), { probes: true }).look).toMatchObject({ running: true });
  });

  it('says a retry wait for the ended task itself, and the run keeps running', () => {
    const manifest = fanIn('all_success');
    const { tis } = world(manifest, {
      a: { state: 'up_for_retry', tryNumber: 1, nextRetryAt: NOW + 60_000 },
      b: 'success',
      c: 'success',
    });
    const { look } = lookFrom(manifest, tis, ['a']);
    expect(look).toMatchObject({ kind: 'evaluated', transitions: [], running: true });
    expect(look.kind === 'evaluated' && look.waits.map((w) => [w.key.taskId, w.reason])).toEqual([
      ['a', { kind: 'retry_at', at: NOW + 60_000 }],
      ['join', { kind: 'upstream_pending', pending: ['a'] }],
    ]);
  });

  it('asks for a whole look at a timed-out run and at an ended task cleared back to none', () => {
    const timed = compileDag(
      dag('timed', { dagrunTimeout: '1m' }, (d) => void d.chain(d.task('a', noop), d.task('b', noop))),
    );
    const run = runOf(timed, { startedAt: NOW - 120_000 });
    const { tis } = world(timed, { a: 'success' }, run);
    expect(lookFrom(timed, tis, ['a'], run).look).toEqual({ kind: 'full' });
    const cleared = world(diamond, { start: 'success', left: 'none' });
    expect(lookFrom(diamond, cleared.tis, ['left']).look).toEqual({ kind: 'full' });
  });

  it('looks at a cleared task that runs again: its downstream, cleared with it, waits for it', () => {
    const { tis } = world(diamond, {
      start: 'success',
      left: { state: 'running', tryNumber: 2 },
      right: 'success',
    });
    const { look } = lookFrom(diamond, tis, ['left']);
    expect(look).toMatchObject({ kind: 'evaluated', transitions: [], running: true });
  });
});

// ---- the narrow look against the whole-run evaluation, over random DAGs and histories

interface Shape {
  tasks: { rule: TriggerRule; empty: boolean; upstream: number[] }[];
}

const shapeArb: fc.Arbitrary<Shape> = fc.integer({ min: 2, max: 9 }).chain((n) =>
  fc.record({
    tasks: fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.record({
          rule: fc.constantFrom(...TRIGGER_RULES),
          empty: fc.boolean(),
          upstream: fc.subarray(
            Array.from({ length: i }, (_, k) => k),
            { maxLength: Math.min(3, i) },
          ),
        }),
      ),
    ),
  }),
);

function manifestOf(shape: Shape): DagManifest {
  return compileDag(
    dag('random', {}, (d) => {
      const refs = shape.tasks.map((t, i) => {
        const id = `t${i}`;
        return t.empty ? d.empty(id, { triggerRule: t.rule }) : d.task(id, { triggerRule: t.rule }, noop);
      });
      shape.tasks.forEach((t, i) => {
        for (const up of t.upstream) refs[up]!.before(refs[i]!);
      });
    }),
  );
}

/** Applies whole-run evaluations (transitions and wait reasons) until nothing changes. */
function settle(manifest: DagManifest, tis: TaskInstance[]): TaskInstance[] {
  let current = tis;
  for (let round = 0; round < 20; round += 1) {
    const e = evaluateRun({ dag: manifest, run: runOf(manifest), tis: current, now: NOW });
    const sets = new Map(e.transitions.map((t) => [t.key.taskId, t.set]));
    const waits = new Map(e.waits.map((w) => [w.key.taskId, w.reason]));
    current = current.map((ti) => ({
      ...ti,
      ...sets.get(ti.taskId),
      ...(waits.has(ti.taskId) ? { waitReason: waits.get(ti.taskId)! } : {}),
    }));
    if (sets.size === 0) return current;
  }
  return current;
}

const OUTCOMES: TiState[] = ['success', 'failed', 'up_for_retry', 'skipped'];

describe('evaluateDownstream against evaluateRun', () => {
  it('decides the same transitions and waits after tries end, and "running" only for a running run', () => {
    fc.assert(
      fc.property(
        shapeArb,
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...OUTCOMES), fc.nat(2)), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('removed', 'absent')), { maxLength: 2 }),
        fc.boolean(),
        (shape, history, gone, probe) => {
          const manifest = manifestOf(shape);
          // Some tasks removed (a newer version dropped them) or without an instance in this run:
          // the first can deadlock the run, the second neither blocks nor counts.
          const removed = new Set(
            gone.filter(([, how]) => how === 'removed').map(([i]) => `t${i % shape.tasks.length}`),
          );
          const absent = new Set(
            gone.filter(([, how]) => how === 'absent').map(([i]) => `t${i % shape.tasks.length}`),
          );
          const start = world(manifest)
            .tis.filter((ti) => !absent.has(ti.taskId))
            .map((ti) => (removed.has(ti.taskId) ? { ...ti, state: 'removed' as const } : ti));
          let tis = settle(manifest, start);
          for (const [pick, outcome, batch] of history) {
            // Some scheduled instances run and end (a batch of task_finished events).
            const scheduled = tis.filter((ti) => ti.state === 'scheduled');
            if (scheduled.length === 0) break;
            const ending = new Set<string>();
            for (let k = 0; k <= batch && k < scheduled.length; k += 1)
              ending.add(scheduled[(pick + k) % scheduled.length]!.taskId);
            tis = tis.map((ti) =>
              ending.has(ti.taskId)
                ? {
                    ...ti,
                    state: outcome,
                    nextRetryAt: outcome === 'up_for_retry' ? NOW + 60_000 : null,
                    waitReason: null,
                  }
                : ti,
            );
            const { look } = lookFrom(manifest, tis, [...ending], runOf(manifest), { probes: probe });
            const whole = evaluateRun({ dag: manifest, run: runOf(manifest), tis, now: NOW });
            if (look.kind === 'full') throw new Error('a narrow look gave up on a plain history');
            if (look.kind !== 'evaluated') throw new Error('unreachable');
            const sorted = <T extends { key: { taskId: string } }>(xs: T[]) =>
              [...xs].sort((a, b) => (a.key.taskId < b.key.taskId ? -1 : 1));
            expect(sorted(look.transitions)).toEqual(sorted(whole.transitions));
            expect(sorted(look.waits)).toEqual(sorted(whole.waits));
            if (look.running) expect(whole.finish).toBeNull();
            if (!look.running && whole.finish === null)
              // Undecided on a running run: the whole look says so; nothing is lost but a listing.
              expect(tis.some((ti) => isUnfinished(ti.state))).toBe(true);
            tis = settle(manifest, tis);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
