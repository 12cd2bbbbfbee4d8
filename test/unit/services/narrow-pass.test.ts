/**
 * Event-driven passes that look at a run from the tasks whose tries ended (task_finished events
 * naming their task), with no sweep: the run must still reach the state a whole-run evaluation
 * gives it, and a pass must not list the whole run while the run has other work in flight.
 */
import { describe, expect, it } from 'vitest';
import type { TaskInstance } from '#core/model.ts';
import type { StateStore, TaskOutcome } from '#ports';
import { dag } from '#sdk/index.ts';
import { clearTaskInstances } from '#services/clear.ts';
import { passOptionsFor, runScheduler } from '#services/scheduler-input.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { makeHarness } from '../../support/service-harness.ts';

const noop = async () => null;

/** Counts the store's whole-run listings. */
function countListings(h: ReturnType<typeof makeHarness>) {
  const counts = { listTis: 0 };
  const listTis = h.store.listTis.bind(h.store);
  h.store.listTis = (dagId, runId) => {
    counts.listTis += 1;
    return listTis(dagId, runId);
  };
  return counts;
}

/** Hands the published events to the scheduler and runs what it dispatched, until both are empty. */
async function playEvents(
  h: ReturnType<typeof makeHarness>,
  outcome?: (ti: TaskInstance) => TaskOutcome,
  opts: { oneTryPerRound?: boolean } = {},
) {
  const order: string[] = [];
  for (let round = 0; round < 400; round += 1) {
    const events = h.events.splice(0);
    if (events.length > 0) await runScheduler(h.deps, events, h.clock.now());
    // One try per round: each pass then sees one ended task (as a worker's event each).
    const held = opts.oneTryPerRound ? h.dispatched.splice(1) : [];
    const ran = await h.work(outcome);
    h.dispatched.push(...held);
    order.push(...ran);
    if (ran.length === 0 && h.events.length === 0 && h.dispatched.length === 0) break;
    h.clock.advance(1_000);
  }
  return order;
}

async function stateOf(h: ReturnType<typeof makeHarness>, dagId: string, runId: string) {
  const tis = await h.store.listTis(dagId, runId);
  return Object.fromEntries(tis.map((ti) => [ti.taskId, ti.state]));
}

describe('narrow scheduler passes (task_finished with its task)', () => {
  it('runs a chain through events alone and finishes the run on its last leaf, listing it once', async () => {
    const h = makeHarness();
    await h.register(
      dag('chain5', { schedule: null }, (d) => {
        d.chain(...['a', 'b', 'c', 'd', 'e'].map((id) => d.task(id, noop)));
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'chain5', now: h.clock.now() });
    const counts = countListings(h);

    const order = await playEvents(h);

    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect((await h.store.getRun('chain5', run.runId))?.state).toBe('success');
    // The run_triggered pass looks at the whole new run; the four hand-offs read by key; the last
    // leaf's pass cannot prove the run unfinished and looks at the whole run, which finishes it.
    expect(counts.listTis).toBe(2);
  });

  it('keeps a task with several upstreams waiting until the last one ends, naming those pending', async () => {
    const h = makeHarness();
    await h.register(
      dag('fan_in', { schedule: null }, (d) => {
        const join = d.task('join', noop);
        for (const id of ['a', 'b', 'c']) d.task(id, noop).before(join);
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'fan_in', now: h.clock.now() });
    await runScheduler(h.deps, h.events.splice(0), h.clock.now());
    // Only a ends; b and c stay dispatched.
    const [first, ...rest] = h.dispatched.splice(0);
    h.dispatched.push(first!);
    await h.work();
    h.dispatched.push(...rest);
    await runScheduler(h.deps, h.events.splice(0), h.clock.now());

    const join = await h.store.getTi({ dagId: 'fan_in', runId: run.runId, taskId: 'join', mapIndex: -1 });
    expect(join?.state).toBe('none');
    expect(join?.waitReason).toEqual({ kind: 'upstream_pending', pending: ['b', 'c'] });

    await playEvents(h);
    expect(await stateOf(h, 'fan_in', run.runId)).toEqual({
      a: 'success',
      b: 'success',
      c: 'success',
      join: 'success',
    });
    expect((await h.store.getRun('fan_in', run.runId))?.state).toBe('success');
  });

  it.each([
    {
      rule: 'all_done',
      fails: 'b',
      expected: { a: 'success', b: 'failed', c: 'success', join: 'success', run: 'success' },
    },
    {
      rule: 'one_failed',
      fails: 'b',
      expected: { a: 'success', b: 'failed', c: 'success', join: 'success', run: 'success' },
    },
    {
      rule: 'one_failed',
      fails: null,
      expected: { a: 'success', b: 'success', c: 'success', join: 'skipped', run: 'success' },
    },
    {
      rule: 'none_failed',
      fails: 'a',
      expected: { a: 'failed', b: 'success', c: 'success', join: 'upstream_failed', run: 'failed' },
    },
  ] as const)(
    'applies $rule when $fails fails, one ended try per pass',
    async ({ rule, fails, expected }) => {
      const h = makeHarness();
      await h.register(
        dag('rules', { schedule: null }, (d) => {
          const join = d.task('join', { triggerRule: rule }, noop);
          for (const id of ['a', 'b', 'c']) d.task(id, noop).before(join);
        }),
      );
      const run = await triggerRun(h.deps, { dagId: 'rules', now: h.clock.now() });

      await playEvents(
        h,
        (ti) => (ti.taskId === fails ? { state: 'failed', error: 'boom' } : { state: 'success' }),
        { oneTryPerRound: true },
      );

      const { run: runState, ...states } = expected;
      expect(await stateOf(h, 'rules', run.runId)).toEqual(states);
      expect((await h.store.getRun('rules', run.runId))?.state).toBe(runState);
    },
  );

  it('fails fast through the downstream of a failed task (a cascade read a level at a time)', async () => {
    const h = makeHarness();
    await h.register(
      dag('cascade', { schedule: null }, (d) => {
        d.chain(d.task('a', noop), d.task('b', noop), d.task('c', noop));
        d.task('cleanup', { triggerRule: 'all_done' }, noop).after('c');
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'cascade', now: h.clock.now() });

    await playEvents(h, (ti) =>
      ti.taskId === 'a' ? { state: 'failed', error: 'boom' } : { state: 'success' },
    );

    expect(await stateOf(h, 'cascade', run.runId)).toEqual({
      a: 'failed',
      b: 'upstream_failed',
      c: 'upstream_failed',
      cleanup: 'success',
    });
    // The leaf (cleanup) succeeded: a non-leaf failure alone does not fail the run.
    expect((await h.store.getRun('cascade', run.runId))?.state).toBe('success');
  });

  it('runs a cleared task again and its downstream after it, and finishes the run again', async () => {
    const h = makeHarness();
    await h.register(
      dag('again', { schedule: null }, (d) => void d.chain(d.task('a', noop), d.task('b', noop))),
    );
    const run = await triggerRun(h.deps, { dagId: 'again', now: h.clock.now() });
    await playEvents(h);
    expect((await h.store.getRun('again', run.runId))?.state).toBe('success');

    await clearTaskInstances(h.deps, {
      dagId: 'again',
      runId: run.runId,
      taskIds: ['a'],
      includeDownstream: true,
      now: h.clock.now(),
    });
    const order = await playEvents(h);

    expect(order).toEqual(['a', 'b']);
    const tis = await h.store.listTis('again', run.runId);
    expect(tis.map((ti) => [ti.taskId, ti.state, ti.tryNumber])).toEqual([
      ['a', 'success', 2],
      ['b', 'success', 2],
    ]);
    expect((await h.store.getRun('again', run.runId))?.state).toBe('success');
  });

  it('does not list a wide run while it claims more of its instances, only at its end', async () => {
    const h = makeHarness();
    await h.store.putPool({ name: 'narrow', slots: 2, description: '', includeDeferred: false });
    await h.register(
      dag('wide', { schedule: null, maxActiveTasks: 50 }, (d) => {
        for (let i = 0; i < 12; i += 1) d.task(`t${String(i).padStart(2, '0')}`, { pool: 'narrow' }, noop);
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'wide', now: h.clock.now() });
    const counts = countListings(h);

    const order = await playEvents(h);

    expect(order).toHaveLength(12);
    expect((await h.store.getRun('wide', run.runId))?.state).toBe('success');
    // One whole look when the run starts; the passes that claim more of it need none, nor those
    // whose probes find a later task still running; the last try's pass looks at the whole run.
    expect(counts.listTis).toBe(2);
  });

  it("reads a leaf's probe of the manifest's last task apart from the ended task and its neighbour", async () => {
    // Prepare: a wide run in a 2-slot pool; one try ends while the rest wait.
    const h = makeHarness();
    await h.store.putPool({ name: 'narrow', slots: 2, description: '', includeDeferred: false });
    await h.register(
      dag('wide', { schedule: null, maxActiveTasks: 50 }, (d) => {
        for (let i = 0; i < 12; i += 1) d.task(`t${String(i).padStart(2, '0')}`, { pool: 'narrow' }, noop);
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'wide', now: h.clock.now() });
    await runScheduler(h.deps, h.events.splice(0), h.clock.now());
    h.dispatched.splice(1);
    await h.work();
    const groups: string[][] = [];
    // The memory store has no getTis (callers read by key without it): one that records each call.
    const store: StateStore = h.store;
    store.getTis = async (keys) => {
      groups.push(keys.map((k) => k.taskId));
      return Promise.all(keys.map((k) => h.store.getTi(k)));
    };

    // Act
    await runScheduler(h.deps, h.events.splice(0), h.clock.now());

    // Assess: one range read for t00 and t01, one for t11 (a range of all three spans the run).
    expect(groups).toEqual([['t00', 't01'], ['t11']]);
    expect((await h.store.getRun('wide', run.runId))?.state).toBe('running');
  });

  it('fans out from an empty task into a small pool and joins again (the fanout_weighted shape)', async () => {
    const h = makeHarness();
    await h.store.putPool({ name: 'warehouse', slots: 8, description: '', includeDeferred: false });
    await h.register(
      dag('fanout', { schedule: null, maxActiveTasks: 16, defaultArgs: { pool: 'warehouse' } }, (d) => {
        const partitions = Array.from({ length: 50 }, (_, i) =>
          d.task(`p${String(i).padStart(2, '0')}`, { poolSlots: i % 5 === 0 ? 2 : 1 }, noop),
        );
        d.chain(d.empty('plan'), partitions, d.task('aggregate', noop));
      }),
    );
    const run = await triggerRun(h.deps, { dagId: 'fanout', now: h.clock.now() });

    const order = await playEvents(h, undefined, { oneTryPerRound: true });

    expect(order).toHaveLength(51);
    expect(order.at(-1)).toBe('aggregate');
    expect((await h.store.getRun('fanout', run.runId))?.state).toBe('success');
  });

  it('evaluates the whole run for a task_finished event without its task (an older worker)', async () => {
    const h = makeHarness();
    await h.register(
      dag('old', { schedule: null }, (d) => void d.chain(d.task('a', noop), d.task('b', noop))),
    );
    const run = await triggerRun(h.deps, { dagId: 'old', now: h.clock.now() });
    await runScheduler(h.deps, h.events.splice(0), h.clock.now());
    await h.work();
    // Events as an older worker sends them: the run only.
    h.events.splice(0);
    const counts = countListings(h);
    await runScheduler(h.deps, [{ type: 'task_finished', dagId: 'old', runId: run.runId }], h.clock.now());

    expect(counts.listTis).toBe(1);
    expect(h.dispatched.map((m) => m.key.taskId)).toEqual(['b']);
    await playEvents(h);
    expect((await h.store.getRun('old', run.runId))?.state).toBe('success');
  });

  it('claims in priority order when a narrow look finishes a run and its next run starts in the same pass', async () => {
    // Prepare: one slot; `urgent` (weight 10, one run at a time) holds it, `routine` (weight 1) waits.
    const h = makeHarness();
    await h.store.putPool({ name: 'one', slots: 1, description: '', includeDeferred: false });
    await h.register(
      dag('urgent', { schedule: null, maxActiveRuns: 1 }, (d) => {
        d.task('only', { pool: 'one', priorityWeight: 10 }, noop);
      }),
    );
    await h.register(
      dag(
        'routine',
        { schedule: null },
        (d) => void d.task('only', { pool: 'one', priorityWeight: 1 }, noop),
      ),
    );
    const first = await triggerRun(h.deps, { dagId: 'urgent', now: h.clock.now() });
    h.clock.advance(1_000);
    const second = await triggerRun(h.deps, { dagId: 'urgent', now: h.clock.now() });
    await triggerRun(h.deps, { dagId: 'routine', now: h.clock.now() });
    await runScheduler(h.deps, h.events.splice(0), h.clock.now());
    expect(h.dispatched.map((m) => `${m.key.dagId}/${m.key.runId}`)).toEqual([`urgent/${first.runId}`]);

    // Act: the first run's only try ends; its event's narrow look cannot prove the run unfinished.
    await h.work();
    h.clock.advance(1_000);
    await runScheduler(h.deps, h.events.splice(0), h.clock.now());

    // Assess: the whole look finished the first run before the claim, so the second run's instance
    // (weight 10) took the slot, not routine's (weight 1).
    expect((await h.store.getRun('urgent', first.runId))?.state).toBe('success');
    expect(h.dispatched.map((m) => `${m.key.dagId}/${m.key.runId}`)).toEqual([`urgent/${second.runId}`]);
  });
});

describe('passOptionsFor', () => {
  const now = 1_000;

  it('collects the ended tasks of a run, and asks for a whole look when any news about it lacks them', () => {
    const ended = (taskId: string) => ({
      type: 'task_finished' as const,
      dagId: 'd',
      runId: 'r',
      taskId,
      tryNumber: 1,
      dagVersion: 'v1',
    });
    expect(passOptionsFor([ended('a'), ended('b'), ended('a')], now).runs).toEqual([
      { dagId: 'd', runId: 'r', ended: ['a', 'b'], dagVersion: 'v1' },
    ]);
    expect(passOptionsFor([ended('a'), { type: 'task_finished', dagId: 'd', runId: 'r' }], now).runs).toEqual(
      [{ dagId: 'd', runId: 'r' }],
    );
    expect(passOptionsFor([{ type: 'run_triggered', dagId: 'd', runId: 'r' }, ended('a')], now).runs).toEqual(
      [{ dagId: 'd', runId: 'r' }],
    );
  });

  it('keeps the DAGs woken in a batch that also sweeps', () => {
    expect(passOptionsFor([{ type: 'sweep' }, { type: 'wakeup', dagId: 'hourly' }], now)).toEqual({
      now,
      sweep: true,
      wokenDagIds: ['hourly'],
    });
  });

  it('creates the due run of a woken DAG in a sweep whose capped listing of due DAGs missed it', async () => {
    const h = makeHarness();
    await h.register(
      dag('hourly', { schedule: '@hourly', startDate: '2026-01-01', catchup: false }, (d) => {
        d.task('only', noop);
      }),
    );
    h.clock.advance(2 * 3_600_000);
    // As with more than 500 due DAGs: the page of due DAGs the sweep reads does not reach this one.
    h.store.listDagsDue = async () => [];

    const report = await runScheduler(
      h.deps,
      [{ type: 'sweep' }, { type: 'wakeup', dagId: 'hourly' }],
      h.clock.now(),
    );

    expect(report.runsCreated).toBe(1);
    expect((await h.store.listRuns('hourly')).items).toHaveLength(1);
  });
});
