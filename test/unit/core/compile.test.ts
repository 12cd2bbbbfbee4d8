import { describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import { DagValidationError } from '#core/errors.ts';
import { dag } from '#sdk/index.ts';

const noop = async () => null;

function issuesOf(build: () => ReturnType<typeof dag>) {
  try {
    compileDag(build());
  } catch (error) {
    if (error instanceof DagValidationError) return error.issues.map((i) => `${i.field}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('compileDag', () => {
  it('applies the defaults Airflow users expect', () => {
    const manifest = compileDag(dag('defaults', {}, (d) => void d.task('t', noop)));
    const task = manifest.tasks[0]!;
    expect(manifest).toMatchObject({
      schedule: { kind: 'none' },
      timezone: 'UTC',
      catchup: false,
      maxActiveRuns: 16,
      maxActiveTasks: 16,
      isPausedUponCreation: true,
    });
    expect(task).toMatchObject({
      retries: 0,
      retryDelayMs: 300_000,
      retryExponentialBackoff: false,
      maxRetryDelayMs: null,
      pool: 'default_pool',
      poolSlots: 1,
      priorityWeight: 1,
      weightRule: 'downstream',
      triggerRule: 'all_success',
      executor: 'lambda',
    });
  });

  it('merges defaultArgs under task options', () => {
    const manifest = compileDag(
      dag('merge', { defaultArgs: { retries: 3, pool: 'etl' } }, (d) => {
        d.task('a', noop);
        d.task('b', { retries: 1 }, noop);
      }),
    );
    expect(manifest.tasks.map((t) => [t.taskId, t.retries, t.pool])).toEqual([
      ['a', 3, 'etl'],
      ['b', 1, 'etl'],
    ]);
  });

  it.each([
    {
      case: 'cycle',
      build: () => dag('x', {}, (d) => void d.task('a', noop).before(d.task('b', noop)).before('a')),
      expected: 'tasks: dependency cycle: a → b → a',
    },
    {
      case: 'duplicate id',
      build: () =>
        dag('x', {}, (d) => {
          d.task('a', noop);
          d.task('a', noop);
        }),
      expected: 'tasks.a: task id is used twice in this DAG',
    },
    {
      case: 'unknown upstream',
      build: () => dag('x', {}, (d) => void d.task('a', noop).after('ghost')),
      expected: 'tasks.a.upstream: depends on ghost, which is not a task of this DAG',
    },
    {
      case: 'invalid cron',
      build: () => dag('x', { schedule: '0 25 * * *' }, (d) => void d.task('a', noop)),
      expected: /^schedule: .*0 25 \* \* \*/,
    },
    {
      case: 'invalid timezone',
      build: () => dag('x', { timezone: 'Mars/Olympus' }, (d) => void d.task('a', noop)),
      expected: /^timezone: "Mars\/Olympus" is not an IANA timezone/,
    },
    {
      case: 'poolSlots < 1',
      build: () => dag('x', {}, (d) => void d.task('a', { poolSlots: 0 }, noop)),
      expected: 'tasks.a.poolSlots: must be a whole number ≥ 1',
    },
    {
      case: 'unknown weightRule',
      build: () => dag('x', {}, (d) => void d.task('a', { weightRule: 'heaviest' as never }, noop)),
      expected: /^tasks\.a\.weightRule: must be one of downstream, upstream, absolute/,
    },
    {
      case: 'unknown triggerRule',
      build: () => dag('x', {}, (d) => void d.task('a', { triggerRule: 'all_sucess' as never }, noop)),
      expected: /^tasks\.a\.triggerRule: must be one of/,
    },
    {
      case: 'startDate after endDate',
      build: () =>
        dag('x', { startDate: '2026-02-01', endDate: '2026-01-01' }, (d) => void d.task('a', noop)),
      expected: 'startDate: must not be after endDate',
    },
    {
      case: 'non-positive maxActiveRuns',
      build: () => dag('x', { maxActiveRuns: 0 }, (d) => void d.task('a', noop)),
      expected: 'maxActiveRuns: must be a whole number ≥ 1',
    },
    {
      case: 'non-positive maxActiveTasks',
      build: () => dag('x', { maxActiveTasks: -1 }, (d) => void d.task('a', noop)),
      expected: 'maxActiveTasks: must be a whole number ≥ 1',
    },
    {
      case: 'non-positive maxActiveTisPerDag',
      build: () => dag('x', {}, (d) => void d.task('a', { maxActiveTisPerDag: 0 }, noop)),
      expected: 'tasks.a.maxActiveTisPerDag: must be a whole number ≥ 1',
    },
    {
      case: 'negative retries',
      build: () => dag('x', {}, (d) => void d.task('a', { retries: -1 }, noop)),
      expected: 'tasks.a.retries: must be a whole number ≥ 0',
    },
    {
      case: 'retryDelay above maxRetryDelay',
      build: () => dag('x', {}, (d) => void d.task('a', { retryDelay: '10m', maxRetryDelay: '1m' }, noop)),
      expected: 'tasks.a.retryDelay: must be ≤ maxRetryDelay (1m)',
    },
    {
      case: 'typo in an option',
      build: () => dag('x', { maxActiveTask: 3 } as never, (d) => void d.task('a', noop)),
      expected: 'maxActiveTask: unknown option (did you mean maxActiveTasks?)',
    },
    {
      case: 'bad task id',
      build: () => dag('x', {}, (d) => void d.task('has space', noop)),
      expected: /^tasks\.has space: task ids use/,
    },
    {
      case: 'empty DAG',
      build: () => dag('x', {}, () => {}),
      expected: 'tasks: a DAG needs at least one task',
    },
    {
      case: 'catchup without startDate',
      build: () => dag('x', { schedule: '@daily', catchup: true }, (d) => void d.task('a', noop)),
      expected: 'catchup: catchup needs a startDate to know where to start',
    },
    {
      case: 'bad duration',
      build: () => dag('x', {}, (d) => void d.task('a', { retryDelay: 'soon' as never }, noop)),
      expected: /^tasks\.a\.retryDelay: must be a duration/,
    },
    {
      case: 'build function throws',
      build: () =>
        dag('x', {}, () => {
          throw new Error('oops');
        }),
      expected: 'build: the build function threw: oops',
    },
  ])('rejects a DAG with a $case, naming the field', ({ build, expected }) => {
    const issues = issuesOf(build);
    if (typeof expected === 'string') expect(issues).toContain(expected);
    else expect(issues.some((i) => expected.test(i))).toBe(true);
  });

  it('reports every problem at once', () => {
    const issues = issuesOf(() =>
      dag('x', { maxActiveRuns: 0 }, (d) => {
        d.task('a', { poolSlots: 0, retries: -2 }, noop);
        d.task('b', noop).after('ghost');
      }),
    );
    expect(issues).toHaveLength(4);
  });

  it('orders tasks topologically with ties by id, and records both edge directions', () => {
    const manifest = compileDag(
      dag('order', {}, (d) => {
        const z = d.task('z', noop);
        const b = d.task('b', noop);
        const a = d.task('a', noop);
        z.before(a);
        b.before(a);
      }),
    );
    expect(manifest.tasks.map((t) => t.taskId)).toEqual(['b', 'z', 'a']);
    expect(manifest.tasks.find((t) => t.taskId === 'b')?.downstream).toEqual(['a']);
    expect(manifest.tasks.find((t) => t.taskId === 'a')?.upstream).toEqual(['b', 'z']);
  });

  it('reads a start date without a zone in the DAG timezone', () => {
    const manifest = compileDag(
      dag('tz', { timezone: 'Europe/Paris', startDate: '2026-01-01' }, (d) => void d.task('a', noop)),
    );
    expect(new Date(manifest.startDate!).toISOString()).toBe('2025-12-31T23:00:00.000Z');
  });

  it('gives the same DAG the same version hash, and any change a new one', () => {
    const build = (retries: number) =>
      dag('h', { schedule: '@daily', tags: ['b', 'a'] }, (d) => void d.task('a', { retries }, noop));
    expect(compileDag(build(1)).hash).toBe(compileDag(build(1)).hash);
    expect(compileDag(build(1)).hash).not.toBe(compileDag(build(2)).hash);
  });

  it('compiles every task kind into its operator', () => {
    const manifest = compileDag(
      dag('kinds', {}, (d) => {
        d.shell('sh', { command: 'echo {{ ds }}' });
        d.container('ct', { image: 'python:3.12', command: ['python', '-V'] });
        d.lambdaInvoke('li', { functionName: 'fn' });
        d.http('ht', { url: 'https://example.com/hook', method: 'post' });
        d.empty('em');
        d.sensor('se', { poke: () => true, pokeInterval: '30s', timeout: '1h' });
      }),
    );
    const ops = Object.fromEntries(manifest.tasks.map((t) => [t.taskId, t.operator]));
    expect(ops.sh).toEqual({ kind: 'shell', command: 'echo {{ ds }}' });
    expect(ops.ct).toMatchObject({ kind: 'container', image: 'python:3.12' });
    expect(manifest.tasks.find((t) => t.taskId === 'ct')?.executor).toBe('fargate');
    expect(ops.li).toEqual({ kind: 'lambdaInvoke', functionName: 'fn', invocationType: 'RequestResponse' });
    expect(ops.ht).toMatchObject({ kind: 'http', method: 'POST' });
    expect(ops.em).toEqual({ kind: 'empty' });
    expect(ops.se).toEqual({
      kind: 'sensor',
      pokeIntervalMs: 30_000,
      timeoutMs: 3_600_000,
      mode: 'reschedule',
    });
  });

  it('compiles a 1,000-task DAG quickly', () => {
    const def = dag('big', {}, (d) => {
      let prev = d.task('t0', noop);
      for (let i = 1; i < 1000; i += 1) prev = prev.before(d.task(`t${i}`, noop));
    });
    const started = performance.now();
    const manifest = compileDag(def);
    expect(performance.now() - started).toBeLessThan(500);
    expect(manifest.tasks[0]?.priorityWeightTotal).toBe(1000);
  });
});
