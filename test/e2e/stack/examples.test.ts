/**
 * The example DAGs on the local stack (the handlers behind the SQS pollers, timers and S3 uploads
 * that `npm start` runs), each to its expected final state, with their waits shortened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskInstance } from '#core/model.ts';
import { triggerRun } from '#services/trigger-run.ts';
import type { LocalStack } from '../../../cli/dev/stack.ts';
import { exampleSource, finishedRun, peak, startTestStack, waitFor } from '../support/local-stack.ts';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({
    unpauseNew: false,
    pools: { warehouse: 8 },
    concurrency: { worker: 8, scheduler: 2 },
    // These tests are about final states, not failure detection (delivery.test.ts has that): on a
    // loaded machine an event-loop stall past the 2 s test timeouts failed a healthy try by
    // "heartbeat timeout", and its retry a minute later ran past the test's wait.
    settings: { heartbeatTimeoutMs: 15_000, taskQueuedTimeoutMs: 15_000 },
  });
});

afterAll(async () => {
  await stack?.stop();
});

/** Uploads an example, expects it registered, and unpauses it (without its scheduled run unless asked). */
async function upload(
  file: string,
  replacements: [string, string][] = [],
  opts: { keepSchedule?: boolean } = {},
) {
  const [result] = (await stack.putDagFile(file, exampleSource(file, replacements))) as {
    kind: string;
    dags: { dagId: string }[];
  }[];
  expect(result?.kind).toBe('registered');
  const dagId = result!.dags[0]!.dagId;
  const record = (await stack.deps.store.getDag(dagId))!;
  const patch = opts.keepSchedule ? { paused: false } : { paused: false, nextRun: null };
  expect(await stack.deps.store.updateDag(dagId, record.updatedAt, patch, Date.now())).toBe(true);
  return dagId;
}

async function trigger(dagId: string, conf: Record<string, unknown> = {}) {
  return triggerRun(stack.deps, { dagId, now: Date.now(), conf });
}

const states = (tis: Map<string, TaskInstance>) =>
  Object.fromEntries([...tis].map(([id, ti]) => [id, ti.state]));

describe('example DAGs on the local stack', { timeout: 120_000 }, () => {
  it('hourly_etl: the scheduled run covers exactly the last complete hour and succeeds', async () => {
    const dagId = await upload('hourly_etl.ts', [], { keepSchedule: true });
    await stack.invoke.scheduler({ v: 1, type: 'wakeup', dagId });
    const [run] = (
      await waitFor(
        'the scheduled run of hourly_etl',
        () => stack.deps.store.listRuns(dagId),
        (page) => page.items.length > 0,
      )
    ).items;
    const { run: done, tis } = await finishedRun(stack, dagId, run!.runId);
    expect(done).toMatchObject({ state: 'success', runType: 'scheduled' });
    expect(done.dataIntervalEnd - done.dataIntervalStart).toBe(3_600_000);
    expect(done.logicalDate).toBe(done.dataIntervalStart);
    expect(done.dataIntervalEnd).toBeLessThanOrEqual(Date.now());
    expect(states(tis)).toEqual({ extract: 'success', transform: 'success', load: 'success' });
    const load = tis.get('load')!;
    const log = await stack.deps.logs!.read(load, load.tryNumber);
    expect(log.join('\n')).toContain(new Date(done.dataIntervalStart).toISOString());
  });

  it('fanout_weighted: 50 tasks never run more than 8 warehouse slots at once, and the heavy ones start earlier', async () => {
    const dagId = await upload('fanout_weighted.ts');
    const run = await trigger(dagId);
    const { run: done, tis } = await finishedRun(stack, dagId, run.runId);
    expect(done.state).toBe('success');
    expect(tis.get('aggregate')?.result).toEqual({ total: 10 * 10_000 + 40 * 1_000 });
    const all = [...tis.values()];
    // A slot is held from the claim until the try's end; every try runs inside that span, so the
    // running peaks are lower bounds of what was held, and never above the limits.
    expect(
      peak(
        all,
        (ti) => ti.startedAt,
        (ti) => ti.poolSlots,
      ),
    ).toBeLessThanOrEqual(8);
    expect(
      peak(
        all,
        (ti) => ti.startedAt,
        () => 1,
      ),
    ).toBeLessThanOrEqual(16);
    const partitions = all.filter((ti) => ti.taskId.startsWith('partition_'));
    const meanStart = (weight: number) => {
      const starts = partitions.filter((ti) => ti.priorityWeight === weight).map((ti) => ti.startedAt!);
      return starts.reduce((a, b) => a + b, 0) / starts.length;
    };
    expect(meanStart(10)).toBeLessThan(meanStart(1));
  });

  it('a one-slot pool runs tasks in priority order, highest first', async () => {
    await stack.deps.store.putPool({
      name: 'serial',
      slots: 1,
      description: 'one at a time',
      includeDeferred: false,
    });
    const source = `import { dag } from 'updraft/sdk';
export default dag('by_priority', { schedule: null, defaultArgs: { pool: 'serial', weightRule: 'absolute' } }, (d) => {
  for (const w of [3, 1, 6, 2, 5, 4]) d.task('w' + w, { priorityWeight: w }, async () => w);
});`;
    await stack.putDagFile('by_priority.ts', source);
    const record = (await stack.deps.store.getDag('by_priority'))!;
    await stack.deps.store.updateDag('by_priority', record.updatedAt, { paused: false }, Date.now());
    const run = await trigger('by_priority');
    const { run: done, tis } = await finishedRun(stack, 'by_priority', run.runId);
    expect(done.state).toBe('success');
    const order = [...tis.values()].sort((a, b) => a.startedAt! - b.startedAt!).map((ti) => ti.taskId);
    expect(order).toEqual(['w6', 'w5', 'w4', 'w3', 'w2', 'w1']);
    expect(
      peak(
        [...tis.values()],
        (ti) => ti.startedAt,
        () => 1,
      ),
    ).toBe(1);
  });

  it.each([
    {
      conf: {},
      run: 'success',
      tasks: {
        start: 'success',
        validate: 'success',
        enrich: 'success',
        publish: 'success',
        alert: 'skipped',
        cleanup: 'success',
      },
    },
    {
      conf: { fail: true },
      run: 'failed',
      tasks: {
        start: 'success',
        validate: 'failed',
        enrich: 'success',
        publish: 'upstream_failed',
        alert: 'success',
        cleanup: 'success',
      },
    },
  ])(
    'diamond_cleanup with conf $conf: trigger rules decide each task, cleanup runs either way',
    async ({ conf, run: runState, tasks }) => {
      const dagId = (await stack.deps.store.getDag('diamond_cleanup'))
        ? 'diamond_cleanup'
        : await upload('diamond_cleanup.ts');
      const run = await trigger(dagId, conf);
      const { run: done, tis } = await finishedRun(stack, dagId, run.runId);
      expect(done.state).toBe(runState);
      expect(states(tis)).toEqual(tasks);
    },
  );

  it('flaky_retries: two failed tries back off, the third succeeds', async () => {
    const dagId = await upload('flaky_retries.ts', [
      ["retryDelay: '10s'", "retryDelay: '200ms'"],
      ["maxRetryDelay: '2m'", "maxRetryDelay: '1s'"],
    ]);
    const run = await trigger(dagId);
    const { run: done, tis } = await finishedRun(stack, dagId, run.runId);
    expect(done.state).toBe('success');
    const fetch = tis.get('fetch_rates')!;
    expect(fetch).toMatchObject({ state: 'success', tryNumber: 3 });
    expect(tis.get('store_rates')?.result).toEqual({
      stored: { eurUsd: 1.08, at: new Date(done.logicalDate).toISOString() },
    });
    const first = await stack.deps.logs!.read(fetch, 1);
    expect(first.join('\n')).toMatch(/try 1 failed: rates API answered 503/);
  });

  it('sensor_wait: the sensor pokes in reschedule mode until the export is there, then ingest runs', async () => {
    const dagId = await upload('sensor_wait.ts', [["pokeInterval: '30s'", "pokeInterval: '300ms'"]]);
    const run = await trigger(dagId);
    const { run: done, tis } = await finishedRun(stack, dagId, run.runId);
    expect(done.state).toBe('success');
    const sensor = tis.get('wait_for_export')!;
    // Reschedules are not retries: one try, three pokes.
    expect(sensor).toMatchObject({ state: 'success', tryNumber: 1 });
    const log = await stack.deps.logs!.read(sensor, 1);
    expect(log.filter((l) => /poke \d/.test(l))).toHaveLength(3);
    expect(tis.get('ingest')?.state).toBe('success');
  });
});
