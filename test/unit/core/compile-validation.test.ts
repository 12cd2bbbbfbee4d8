import { describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import type { DagDefinition } from '#core/definition.ts';
import { DagValidationError, UpdraftError } from '#core/errors.ts';
import { dag } from '#sdk/index.ts';

const noop = async () => null;

/** Every issue of a DAG that must not compile, as `field: message`. */
function problems(def: DagDefinition): string[] {
  try {
    compileDag(def);
  } catch (error) {
    if (error instanceof DagValidationError) return error.issues.map((i) => `${i.field}: ${i.message}`);
    throw error;
  }
  throw new Error(`DAG ${def.dagId} compiled, but it should not have`);
}

const one = (build: () => DagDefinition) => () => build();

describe('compileDag validation', () => {
  it.each([
    {
      case: 'dependency cycle, printed with its path in run order',
      build: one(() =>
        dag('x', {}, (d) => {
          const c = d.task('c', noop);
          const a = d.task('a', noop);
          const b = d.task('b', noop);
          c.then(a);
          a.then(b).then(c);
        }),
      ),
      expected: 'tasks: dependency cycle: a → b → c → a; remove one of these dependencies',
    },
    {
      case: 'task depending on itself',
      build: one(() => dag('x', {}, (d) => void d.task('a', noop).then('a'))),
      expected: 'tasks: dependency cycle: a → a; remove one of these dependencies',
    },
    {
      case: 'duplicate task id',
      build: one(() =>
        dag('x', {}, (d) => {
          d.task('a', noop);
          d.empty('a');
        }),
      ),
      expected: 'tasks.a: task id a is used twice in this DAG: give each task its own id',
    },
    {
      case: 'unknown upstream',
      build: one(() => dag('x', {}, (d) => void d.task('a', noop).after('ghost'))),
      expected:
        'tasks.a.upstream: depends on ghost, which is not a task of this DAG: create it or remove the dependency',
    },
    {
      case: "dependency on another DAG's task",
      build: one(() => {
        const other = dag('other', {}, (d) => void d.task('remote', noop));
        let remote: unknown;
        dag('other', {}, (d) => {
          remote = d.task('remote', noop);
        });
        void other;
        return dag('x', {}, (d) => void d.task('b', noop).after(remote as never));
      }),
      expected:
        'tasks.b.upstream: depends on other.remote, a task of another DAG: a DAG can only depend on its own tasks (wait for another DAG with a sensor)',
    },
    {
      case: 'invalid cron',
      build: one(() => dag('x', { schedule: '0 25 * * *' }, (d) => void d.task('a', noop))),
      expected: 'schedule: "0 25 * * *" is not a valid cron expression: hour 25 out of range 0-23',
    },
    {
      case: 'unknown preset',
      build: one(() => dag('x', { schedule: '@fortnightly' }, (d) => void d.task('a', noop))),
      expected:
        'schedule: "@fortnightly" is not a known preset (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once)',
    },
    {
      case: 'zero fixed interval',
      build: one(() => dag('x', { schedule: { every: '0m' } }, (d) => void d.task('a', noop))),
      expected: 'schedule: every: must be longer than 0 ms',
    },
    {
      case: 'invalid timezone',
      build: one(() =>
        dag('x', { schedule: '@daily', timezone: 'Mars/Olympus' }, (d) => void d.task('a', noop)),
      ),
      expected: 'timezone: "Mars/Olympus" is not an IANA timezone: use e.g. UTC or Europe/Paris',
    },
    {
      case: 'poolSlots < 1',
      build: one(() => dag('x', {}, (d) => void d.task('a', { poolSlots: 0 }, noop))),
      expected: 'tasks.a.poolSlots: must be a whole number ≥ 1',
    },
    {
      case: 'unknown weightRule',
      build: one(() => dag('x', {}, (d) => void d.task('a', { weightRule: 'heaviest' as never }, noop))),
      expected: 'tasks.a.weightRule: must be one of downstream, upstream, absolute',
    },
    {
      case: 'unknown triggerRule',
      build: one(() => dag('x', {}, (d) => void d.task('a', { triggerRule: 'all_sucess' as never }, noop))),
      expected:
        'tasks.a.triggerRule: must be one of all_success, all_failed, all_done, all_skipped, one_success, one_failed, one_done, none_failed, none_failed_min_one_success, none_skipped, always',
    },
    {
      case: 'DAG startDate after endDate',
      build: one(() =>
        dag('x', { startDate: '2026-02-01', endDate: '2026-01-01' }, (d) => void d.task('a', noop)),
      ),
      expected: 'startDate: must not be after endDate: swap them or fix one',
    },
    {
      case: 'task startDate after endDate',
      build: one(() =>
        dag(
          'x',
          {},
          (d) => void d.task('a', { startDate: '2026-03-01', endDate: new Date('2026-01-01') }, noop),
        ),
      ),
      expected: 'tasks.a.startDate: must not be after endDate: swap them or fix one',
    },
    {
      case: 'date that does not exist',
      build: one(() => dag('x', { startDate: '2026-13-01' }, (d) => void d.task('a', noop))),
      expected: 'startDate: is not a valid date: use ISO-8601, e.g. 2026-01-01',
    },
    {
      case: 'non-positive maxActiveRuns',
      build: one(() => dag('x', { maxActiveRuns: 0 }, (d) => void d.task('a', noop))),
      expected: 'maxActiveRuns: must be a whole number ≥ 1',
    },
    {
      case: 'non-positive maxActiveTasks',
      build: one(() => dag('x', { maxActiveTasks: -1 }, (d) => void d.task('a', noop))),
      expected: 'maxActiveTasks: must be a whole number ≥ 1',
    },
    {
      case: 'non-positive maxActiveTisPerDag',
      build: one(() => dag('x', {}, (d) => void d.task('a', { maxActiveTisPerDag: 0 }, noop))),
      expected: 'tasks.a.maxActiveTisPerDag: must be a whole number ≥ 1',
    },
    {
      case: 'non-positive maxActiveTisPerDagrun',
      build: one(() => dag('x', {}, (d) => void d.task('a', { maxActiveTisPerDagrun: -3 }, noop))),
      expected: 'tasks.a.maxActiveTisPerDagrun: must be a whole number ≥ 1',
    },
    {
      case: 'fractional limit',
      build: one(() => dag('x', {}, (d) => void d.task('a', { maxActiveTisPerDagrun: 1.5 }, noop))),
      expected: 'tasks.a.maxActiveTisPerDagrun: must be a whole number, got number 1.5',
    },
    {
      case: 'negative retries',
      build: one(() => dag('x', {}, (d) => void d.task('a', { retries: -1 }, noop))),
      expected: 'tasks.a.retries: must be a whole number ≥ 0',
    },
    {
      case: 'retryDelay above maxRetryDelay (one of them from defaultArgs)',
      build: one(() =>
        dag(
          'x',
          { defaultArgs: { maxRetryDelay: '1m' } },
          (d) => void d.task('a', { retryDelay: '10m' }, noop),
        ),
      ),
      expected: 'tasks.a.retryDelay: must be ≤ maxRetryDelay (1m): shorten retryDelay or raise maxRetryDelay',
    },
    {
      case: 'invalid dagId',
      build: one(() => dag('nightly etl!', {}, (d) => void d.task('a', noop))),
      expected: 'dagId: DAG ids use only letters, digits, _ . - (1 to 250 characters): rename the DAG',
    },
    {
      case: 'invalid taskId',
      build: one(() => dag('x', {}, (d) => void d.task('has space', noop))),
      expected:
        'tasks.has space: task ids use only letters, digits, _ . - (1 to 250 characters): rename the task',
    },
    {
      case: 'taskId longer than 250 characters',
      build: one(() => dag('x', {}, (d) => void d.task('t'.repeat(251), noop))),
      expected: `tasks.${'t'.repeat(251)}: task ids use only letters, digits, _ . - (1 to 250 characters): rename the task`,
    },
    {
      case: 'empty DAG',
      build: one(() => dag('x', {}, () => {})),
      expected: 'tasks: a DAG needs at least one task: add one with d.task(…) in the build function',
    },
    {
      case: 'typo in a DAG option',
      build: one(() => dag('x', { maxActiveTask: 3 } as never, (d) => void d.task('a', noop))),
      expected: 'maxActiveTask: unknown option (did you mean maxActiveTasks?)',
    },
    {
      case: 'Airflow spelling of an option',
      build: one(() => dag('x', { max_active_runs: 2 } as never, (d) => void d.task('a', noop))),
      expected: 'max_active_runs: unknown option (did you mean maxActiveRuns?)',
    },
    {
      case: 'transposed letters in an option',
      build: one(() => dag('x', { sheduel: '@daily' } as never, (d) => void d.task('a', noop))),
      expected: 'sheduel: unknown option (did you mean schedule?)',
    },
    {
      case: 'typo in a task option',
      build: one(() => dag('x', {}, (d) => void d.task('a', { trigger_rule: 'all_done' } as never, noop))),
      expected: 'tasks.a.trigger_rule: unknown option (did you mean triggerRule?)',
    },
    {
      case: 'unknown option in defaultArgs',
      build: one(() => dag('x', { defaultArgs: { retires: 2 } as never }, (d) => void d.task('a', noop))),
      expected: 'defaultArgs.retires: unknown option (did you mean retries?)',
    },
    {
      case: 'option of the wrong type',
      build: one(() => dag('x', { catchup: 'yes' as never }, (d) => void d.task('a', noop))),
      expected: 'catchup: must be true or false, got the string "yes"',
    },
    {
      case: 'missing required config',
      build: one(() => dag('x', {}, (d) => void d.shell('s', {} as never))),
      expected: 'tasks.s.command: is required (a string)',
    },
    {
      case: 'URL that is not http(s)',
      build: one(() => dag('x', {}, (d) => void d.http('h', { url: 'ftp://example.com/file' }))),
      expected: 'tasks.h.url: must be an absolute http(s) URL',
    },
    {
      case: 'duration that cannot be read',
      build: one(() => dag('x', {}, (d) => void d.task('a', { retryDelay: 'soon' as never }, noop))),
      expected: 'tasks.a.retryDelay: must be a duration such as 30s, 5m, 2h, 1d or a number of milliseconds',
    },
    {
      case: 'zero dagrunTimeout',
      build: one(() => dag('x', { dagrunTimeout: 0 }, (d) => void d.task('a', noop))),
      expected: 'dagrunTimeout: must be longer than 0 (or null for none)',
    },
    {
      case: 'zero executionTimeout',
      build: one(() => dag('x', {}, (d) => void d.task('a', { executionTimeout: '0s' }, noop))),
      expected: 'tasks.a.executionTimeout: must be longer than 0 (or null for none)',
    },
    {
      case: 'zero sensor pokeInterval',
      build: one(() => dag('x', {}, (d) => void d.sensor('s', { poke: () => true, pokeInterval: 0 }))),
      expected: 'tasks.s.pokeInterval: must be longer than 0',
    },
    {
      case: 'params that are not JSON',
      build: one(() => dag('x', { params: { since: new Date(0) } }, (d) => void d.task('a', noop))),
      expected: 'params.since: must be JSON, got a Date (use date.toISOString())',
    },
    {
      case: 'payload that is not JSON',
      build: one(() =>
        dag('x', {}, (d) => void d.lambdaInvoke('l', { functionName: 'f', payload: { n: Number.NaN } })),
      ),
      expected: 'tasks.l.payload.n: must be JSON, got NaN',
    },
    {
      case: 'catchup without a startDate',
      build: one(() => dag('x', { schedule: '@daily', catchup: true }, (d) => void d.task('a', noop))),
      expected: 'catchup: catchup needs a startDate to know where to start: set startDate',
    },
    {
      case: 'priority weight beyond 32 bits',
      build: one(() => dag('x', {}, (d) => void d.task('a', { priorityWeight: 2 ** 40 }, noop))),
      expected: 'tasks.a.priorityWeight: must be ≤ 2147483647',
    },
    {
      case: 'callback that is not a function',
      build: one(() => dag('x', {}, (d) => void d.task('a', { onFailure: 'page me' as never }, noop))),
      expected: 'tasks.a.onFailure: must be a function (ctx) => void, got string',
    },
    {
      case: 'build function that throws',
      build: one(() =>
        dag('x', {}, () => {
          throw new Error('oops');
        }),
      ),
      expected: 'build: the build function threw: oops',
    },
  ])('rejects a $case, naming the field and the fix', ({ build, expected }) => {
    expect(problems(build())).toEqual([expected]);
  });

  it('reports every problem at once, build problems first, each with its DAG id', () => {
    let caught: unknown;
    try {
      compileDag(
        dag('x', { maxActiveRuns: 0, schedule: 'every day', defaultArgs: { maxRetryDelay: '1m' } }, (d) => {
          d.task('a', { poolSlots: 0, retries: -2, retryDelay: '5m' }, noop).then('nowhere');
          d.task('b', noop).after('ghost');
          d.task('b', noop);
        }),
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DagValidationError);
    expect(caught).toBeInstanceOf(UpdraftError);
    const error = caught as DagValidationError;
    expect(error.issues.every((i) => i.dagId === 'x')).toBe(true);
    expect(error.issues.map((i) => i.field)).toEqual([
      'tasks.b',
      'tasks.a.downstream',
      'maxActiveRuns',
      'schedule',
      'tasks.b.upstream',
      'tasks.a.poolSlots',
      'tasks.a.retries',
      'tasks.a.retryDelay',
      'tasks.b.retryDelay',
    ]);
    expect(error.issues.at(-1)?.message).toBe(
      'the default retryDelay (300s) is above maxRetryDelay (1m): set a shorter retryDelay or raise maxRetryDelay',
    );
    expect(error.message.split('\n')[0]).toBe(
      'x: tasks.b: task id b is used twice in this DAG: give each task its own id',
    );
  });

  it('checks every task even when the DAG options are wrong, with defaultArgs still applied', () => {
    expect(
      problems(
        dag('x', { maxActiveRuns: 0, defaultArgs: { maxRetryDelay: '1m' } }, (d) => {
          d.task('a', { retryDelay: '2m' }, noop);
        }),
      ),
    ).toEqual([
      'maxActiveRuns: must be a whole number ≥ 1',
      'tasks.a.retryDelay: must be ≤ maxRetryDelay (1m): shorten retryDelay or raise maxRetryDelay',
    ]);
  });

  it('finds a cycle among 10,000 tasks without running out of stack', () => {
    const def = dag('long', {}, (d) => {
      let previous = d.task('t00000', noop);
      for (let i = 1; i < 10_000; i += 1)
        previous = previous.then(d.task(`t${String(i).padStart(5, '0')}`, noop));
      previous.then('t00000');
    });
    const [cycle] = problems(def);
    expect(cycle).toMatch(/^tasks: dependency cycle: t00000 → t00001 → .* → t09999 → t00000; remove/);
    expect(cycle?.split(' → ')).toHaveLength(10_001);
  });
});
