import { describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import { DEFAULT_DAG_DEFAULTS } from '#core/dag-defaults.ts';
import { DagManifest } from '#core/manifest.ts';
import { dag } from '#sdk/index.ts';

const noop = async () => null;

describe('compileDag', () => {
  it("applies Airflow's defaults to the DAG and its tasks", () => {
    const manifest = compileDag(dag('defaults', {}, (d) => void d.task('t', noop)));
    expect(manifest).toMatchObject({
      manifestVersion: 1,
      dagId: 'defaults',
      description: null,
      schedule: { kind: 'none' },
      timezone: 'UTC',
      startDate: null,
      endDate: null,
      catchup: false,
      maxActiveRuns: 16,
      maxActiveTasks: 16,
      maxConsecutiveFailedDagRuns: 0,
      dagrunTimeoutMs: null,
      isPausedUponCreation: true,
      tags: [],
      params: {},
      callbacks: [],
    });
    expect(manifest.tasks[0]).toEqual({
      taskId: 't',
      operator: { kind: 'function' },
      upstream: [],
      downstream: [],
      retries: 0,
      retryDelayMs: 300_000,
      retryExponentialBackoff: false,
      maxRetryDelayMs: null,
      executionTimeoutMs: null,
      pool: 'default_pool',
      poolSlots: 1,
      priorityWeight: 1,
      weightRule: 'downstream',
      priorityWeightTotal: 1,
      triggerRule: 'all_success',
      maxActiveTisPerDag: null,
      maxActiveTisPerDagrun: null,
      executor: 'lambda',
      startDate: null,
      endDate: null,
      callbacks: [],
      doc: null,
    });
  });

  it('applies the deployment’s DAG defaults where the DAG, its defaultArgs and its tasks say nothing', () => {
    const dagDefaults = {
      maxActiveRuns: 2,
      maxActiveTasks: 4,
      maxConsecutiveFailedDagRuns: 3,
      retries: 5,
      retryDelayMs: 10_000,
      executionTimeoutMs: 3_600_000,
    };
    const plain = compileDag(
      dag('plain', {}, (d) => void d.task('t', noop)),
      dagDefaults,
    );
    expect(plain).toMatchObject({ maxActiveRuns: 2, maxActiveTasks: 4, maxConsecutiveFailedDagRuns: 3 });
    expect(plain.tasks[0]).toMatchObject({ retries: 5, retryDelayMs: 10_000, executionTimeoutMs: 3_600_000 });

    const own = compileDag(
      dag(
        'own',
        {
          maxActiveRuns: 7,
          maxActiveTasks: 8,
          maxConsecutiveFailedDagRuns: 0,
          defaultArgs: { retries: 1, executionTimeout: '5m' },
        },
        (d) => {
          d.task('byDefaultArgs', noop);
          d.task('byTask', { retries: 0, retryDelay: '1s', executionTimeout: null }, noop);
        },
      ),
      dagDefaults,
    );
    expect(own).toMatchObject({ maxActiveRuns: 7, maxActiveTasks: 8, maxConsecutiveFailedDagRuns: 0 });
    expect(own.tasks.map((t) => [t.taskId, t.retries, t.retryDelayMs, t.executionTimeoutMs])).toEqual([
      ['byDefaultArgs', 1, 10_000, 300_000],
      ['byTask', 0, 1_000, null],
    ]);
    // The defaults are part of what is compiled: other defaults, another version.
    expect(plain.hash).not.toBe(compileDag(dag('plain', {}, (d) => void d.task('t', noop))).hash);
  });

  it('names a deployment default retryDelay above a task’s maxRetryDelay', () => {
    expect(() =>
      compileDag(
        dag('capped', {}, (d) => void d.task('t', { maxRetryDelay: '1m' }, noop)),
        { ...DEFAULT_DAG_DEFAULTS, retryDelayMs: 120_000 },
      ),
    ).toThrow('the default retryDelay (120s) is above maxRetryDelay (1m)');
  });

  it('merges defaultArgs under task options, a task option left undefined taking the default', () => {
    const manifest = compileDag(
      dag('merge', { defaultArgs: { retries: 3, pool: 'etl', retryDelay: '1m' } }, (d) => {
        d.task('a', noop);
        d.task('b', { retries: 1, retryDelay: undefined }, noop);
      }),
    );
    expect(manifest.tasks.map((t) => [t.taskId, t.retries, t.pool, t.retryDelayMs])).toEqual([
      ['a', 3, 'etl', 60_000],
      ['b', 1, 'etl', 60_000],
    ]);
  });

  it('runs container tasks on Fargate unless the task itself says otherwise', () => {
    const manifest = compileDag(
      dag('exec', { defaultArgs: { executor: 'lambda' } }, (d) => {
        d.container('image', { image: 'python:3.12' });
        d.container('own', { image: 'python:3.12', executor: 'lambda' });
        d.shell('sh', { command: 'true' });
      }),
    );
    expect(Object.fromEntries(manifest.tasks.map((t) => [t.taskId, t.executor]))).toEqual({
      image: 'fargate',
      own: 'lambda',
      sh: 'lambda',
    });
  });

  it('turns durations into milliseconds and treats a zero maxRetryDelay as no cap, like Airflow', () => {
    const manifest = compileDag(
      dag('durations', { dagrunTimeout: '2h' }, (d) => {
        d.task('a', { retryDelay: '90s', maxRetryDelay: '1d', executionTimeout: 1500 }, noop);
        d.task('b', { maxRetryDelay: 0 }, noop);
      }),
    );
    expect(manifest.dagrunTimeoutMs).toBe(7_200_000);
    expect(manifest.tasks.map((t) => [t.retryDelayMs, t.maxRetryDelayMs, t.executionTimeoutMs])).toEqual([
      [90_000, 86_400_000, 1500],
      [300_000, null, null],
    ]);
  });

  it('orders tasks topologically with ties by id, and sorts both edge lists', () => {
    const manifest = compileDag(
      dag('order', {}, (d) => {
        const z = d.task('z', noop);
        const b = d.task('b', noop);
        const a = d.task('a', noop);
        const c = d.task('c', noop);
        a.after(z, b);
        b.then([c, a]);
      }),
    );
    expect(manifest.tasks.map((t) => [t.taskId, t.upstream, t.downstream])).toEqual([
      ['b', [], ['a', 'c']],
      ['c', ['b'], []],
      ['z', [], ['a']],
      ['a', ['b', 'z'], []],
    ]);
  });

  it('reads a start date without a zone in the DAG timezone', () => {
    const manifest = compileDag(
      dag('tz', { schedule: '@daily', timezone: 'Europe/Paris', startDate: '2026-07-01' }, (d) => {
        d.task('a', { startDate: '2026-01-01T06:00', endDate: '2026-12-31T23:00:00Z' }, noop);
      }),
    );
    expect(new Date(manifest.startDate!).toISOString()).toBe('2026-06-30T22:00:00.000Z');
    expect(manifest.schedule).toEqual({
      kind: 'cron',
      expression: '0 0 * * *',
      timezone: 'Europe/Paris',
      style: 'interval',
    });
    const task = manifest.tasks[0]!;
    expect(new Date(task.startDate!).toISOString()).toBe('2026-01-01T05:00:00.000Z');
    expect(new Date(task.endDate!).toISOString()).toBe('2026-12-31T23:00:00.000Z');
  });

  it('takes Date objects and epoch milliseconds as they are', () => {
    const manifest = compileDag(
      dag(
        'dates',
        { timezone: 'Asia/Tokyo', startDate: new Date('2026-01-01T00:00:00Z'), endDate: 1_800_000_000_000 },
        (d) => void d.task('a', noop),
      ),
    );
    expect([manifest.startDate, manifest.endDate]).toEqual([
      Date.parse('2026-01-01T00:00:00Z'),
      1_800_000_000_000,
    ]);
  });

  it('keeps the schedule style, tags (sorted, once each), params and description', () => {
    const manifest = compileDag(
      dag(
        'meta',
        {
          schedule: '*/15 * * * *',
          scheduleStyle: 'trigger',
          tags: ['etl', 'b', 'etl'],
          params: { table: 'orders', limits: { rows: 10 } },
          description: 'Copies orders',
          pausedOnCreation: false,
          maxConsecutiveFailedDagRuns: 3,
        },
        (d) => void d.task('a', noop),
      ),
    );
    expect(manifest).toMatchObject({
      schedule: { kind: 'cron', expression: '*/15 * * * *', timezone: 'UTC', style: 'trigger' },
      tags: ['b', 'etl'],
      params: { table: 'orders', limits: { rows: 10 } },
      description: 'Copies orders',
      isPausedUponCreation: false,
      maxConsecutiveFailedDagRuns: 3,
    });
  });

  it('compiles every task kind into its operator', () => {
    const manifest = compileDag(
      dag('kinds', { schedule: { every: '15m' } }, (d) => {
        d.shell('sh', { command: 'echo {{ ds }}', env: { A: 'b' } });
        d.container('ct', { image: 'python:3.12', command: ['python', '-c', 'print(1)'], cpu: 256 });
        d.lambdaInvoke('li', { functionName: 'fn', payload: { a: [1] }, invocationType: 'Event' });
        d.http('ht', {
          url: 'https://example.com/hook',
          method: 'post',
          headers: {},
          body: {},
          expectStatus: [200],
        });
        d.empty('em', { triggerRule: 'all_done' });
        d.sensor('se', { poke: () => true, pokeInterval: '30s', timeout: '1h' });
        d.sensor('se_defaults', { poke: () => true });
      }),
    );
    expect(manifest.schedule).toEqual({ kind: 'interval', everyMs: 900_000 });
    const ops = Object.fromEntries(manifest.tasks.map((t) => [t.taskId, t.operator]));
    expect(ops).toEqual({
      sh: { kind: 'shell', command: 'echo {{ ds }}', env: { A: 'b' } },
      ct: { kind: 'container', image: 'python:3.12', command: ['python', '-c', 'print(1)'], cpu: 256 },
      li: { kind: 'lambdaInvoke', functionName: 'fn', payload: { a: [1] }, invocationType: 'Event' },
      ht: {
        kind: 'http',
        url: 'https://example.com/hook',
        method: 'POST',
        headers: {},
        body: {},
        expectStatus: [200],
      },
      em: { kind: 'empty' },
      se: { kind: 'sensor', pokeIntervalMs: 30_000, timeoutMs: 3_600_000, mode: 'reschedule' },
      se_defaults: { kind: 'sensor', pokeIntervalMs: 60_000, timeoutMs: 604_800_000, mode: 'reschedule' },
    });
    expect(() => DagManifest.parse(manifest)).not.toThrow();
  });

  it('produces a manifest that its zod schema accepts and that survives JSON unchanged', () => {
    const manifest = compileDag(
      dag(
        'full',
        {
          schedule: '@hourly',
          startDate: '2026-01-01',
          endDate: '2027-01-01',
          catchup: true,
          dagrunTimeout: '2h',
          params: { x: [1, 'a', null, { y: true }] },
          onFailure: () => {},
          defaultArgs: { retries: 2, retryExponentialBackoff: true, maxRetryDelay: '1h', onRetry: () => {} },
        },
        (d) => {
          const a = d.task('a', { priorityWeight: 3, doc: 'first', maxActiveTisPerDag: 2 }, noop);
          const b = d.shell('b', { command: 'true', weightRule: 'upstream', maxActiveTisPerDagrun: 1 });
          a.then(b).then(d.empty('c', { weightRule: 'absolute', priorityWeight: -5 }));
        },
      ),
    );
    expect(DagManifest.parse(manifest)).toEqual(manifest);
    expect(JSON.parse(JSON.stringify(manifest))).toEqual(manifest);
    expect(manifest.tasks.map((t) => t.priorityWeightTotal)).toEqual([3 + 1 - 5, 3 + 1, -5]);
  });

  it('compiles 1,000-task chains and fan-outs with their priority totals', () => {
    const chain = dag('chain', { defaultArgs: { retries: 1, retryDelay: '1m' } }, (d) => {
      let previous = d.task('t0000', noop);
      for (let i = 1; i < 1000; i += 1)
        previous = previous.then(d.task(`t${String(i).padStart(4, '0')}`, { priorityWeight: i % 5 }, noop));
    });
    const fan = dag('fan', {}, (d) => {
      const parts = Array.from({ length: 998 }, (_, i) => d.shell(`part${i}`, { command: 'true' }));
      d.chain(d.empty('start'), parts, d.empty('end'));
    });
    // How fast is measured in bench/core-paths.ts (`npm run bench -- core`), not asserted here.
    const downstreamWeights = Array.from({ length: 999 }, (_, i) => (i + 1) % 5).reduce((a, b) => a + b, 0);
    expect(compileDag(chain).tasks[0]?.priorityWeightTotal).toBe(1 + downstreamWeights);
    expect(compileDag(fan).tasks[0]?.priorityWeightTotal).toBe(1000);
  });
});
