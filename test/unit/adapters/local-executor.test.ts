import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSubprocess } from '#adapters/local/subprocess.ts';
import { LocalTaskExecutor } from '#adapters/local/task-executor.ts';
import { compileDag } from '#core/compile.ts';
import type { DagDefinition } from '#core/definition.ts';
import type { TaskInstance } from '#core/model.ts';
import type { TaskRunRequest } from '#ports';
import { type DagBuilder, dag, NonRetryableError, RetryAfterError } from '#sdk/index.ts';
import { run, T0, ti } from '../../support/factories.ts';

/** One try of `taskId` in a DAG built by `build`, run by a LocalTaskExecutor; returns the outcome and log. */
async function execute(
  build: (d: DagBuilder) => void,
  taskId: string,
  opts: {
    conf?: Record<string, unknown>;
    ti?: Partial<TaskInstance>;
    upstream?: Record<string, unknown>;
    signal?: AbortSignal;
    onLog?: (line: string) => void;
  } = {},
) {
  const def: DagDefinition = dag(
    'etl',
    { schedule: '@hourly', params: { table: 'events', limit: 5 } },
    build,
  );
  const manifest = compileDag(def);
  const lines: string[] = [];
  const request: TaskRunRequest = {
    dag: manifest,
    task: manifest.tasks.find((t) => t.taskId === taskId)!,
    ti: ti({ taskId, state: 'running', ...opts.ti }),
    run: run({ conf: opts.conf ?? {} }),
    upstreamResults: opts.upstream ?? {},
    signal: opts.signal ?? new AbortController().signal,
    log: (line) => {
      lines.push(line);
      opts.onLog?.(line);
    },
  };
  const outcome = await new LocalTaskExecutor((dagId) => (dagId === 'etl' ? def.runtime : undefined)).execute(
    request,
  );
  return { outcome, lines };
}

/** True once the process is gone (or a zombie waiting to be reaped: it runs no more). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return true;
  }
}

async function eventually(check: () => boolean, ms = 2_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe('LocalTaskExecutor: shell tasks', () => {
  it('fills in the templates, exports UPDRAFT_* variables, logs each line and returns the last one', async () => {
    // Prepare
    const command =
      'echo "loading {{ params.table }} for {{ ds }}"; echo "interval ends $UPDRAFT_DATA_INTERVAL_END"';
    // Act
    const { outcome, lines } = await execute((d) => d.shell('load', { command }), 'load');
    // Assess
    expect(outcome).toEqual({ state: 'success', result: 'interval ends 2026-01-05T01:00:00.000Z' });
    expect(lines).toEqual(['loading events for 2026-01-05', 'interval ends 2026-01-05T01:00:00.000Z']);
  });

  it('lets the run conf override params in templates', async () => {
    const { lines } = await execute((d) => d.shell('load', { command: 'echo {{ params.table }}' }), 'load', {
      conf: { table: 'orders' },
    });
    expect(lines).toEqual(['orders']);
  });

  it('fails with the last line written to stderr when the command exits non-zero', async () => {
    const command = 'echo working; echo "first problem" >&2; echo "disk full" >&2; exit 3';
    const { outcome, lines } = await execute((d) => d.shell('load', { command }), 'load');
    expect(outcome).toEqual({ state: 'failed', error: 'disk full' });
    expect(lines).toContain('working');
  });

  it('says the exit code when the command failed silently', async () => {
    const { outcome } = await execute((d) => d.shell('load', { command: 'exit 7' }), 'load');
    expect(outcome).toEqual({ state: 'failed', error: 'exited with code 7' });
  });

  it('fails for good on an unknown template variable, without starting the command', async () => {
    const { outcome, lines } = await execute(
      (d) => d.shell('load', { command: 'echo started; echo {{ dss }}' }),
      'load',
    );
    expect(outcome).toMatchObject({ state: 'failed', retryable: false });
    expect(outcome.error).toMatch(/unknown template variable \{\{ dss \}\}/);
    expect(lines).toEqual([]);
  });

  it('kills the whole process group when the try is aborted (execution timeout)', async () => {
    // Prepare: bash starts a background sleep and prints its pid, then waits.
    const abort = new AbortController();
    let sleeper = 0;
    const started = Date.now();
    // Act
    const { outcome } = await execute(
      (d) => d.shell('slow', { command: 'sleep 30 & echo $!; wait' }),
      'slow',
      {
        signal: abort.signal,
        onLog: (line) => {
          sleeper = Number(line);
          abort.abort(new Error('execution timeout'));
        },
      },
    );
    // Assess
    expect(outcome).toEqual({ state: 'failed', error: 'execution timeout' });
    // Far less than the 30 s sleep, with room for a loaded CI machine.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(sleeper).toBeGreaterThan(0);
    expect(await eventually(() => isGone(sleeper))).toBe(true);
  });

  it('kills with SIGKILL a command that ignores SIGTERM, after the grace period', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const outcome = await runSubprocess('bash', ['-c', "trap '' TERM; echo ready; sleep 30 & wait"], {
      signal: abort.signal,
      killGraceMs: 100,
      log: () => abort.abort('cleared'),
    });
    expect(outcome).toEqual({ state: 'failed', error: 'cleared' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('LocalTaskExecutor: function tasks', () => {
  it('hands the task its context and stores the JSON of what it returns', async () => {
    // Act
    const { outcome, lines } = await execute(
      (d) =>
        d.task('transform', async (ctx) => {
          ctx.log('rows', { n: 3 });
          return {
            ds: ctx.ds,
            dsNodash: ctx.dsNodash,
            interval: [ctx.dataIntervalStart.toISOString(), ctx.dataIntervalEnd.toISOString()],
            params: ctx.params,
            conf: ctx.conf,
            upstream: ctx.upstream,
            tryNumber: ctx.tryNumber,
            at: ctx.logicalDate,
          };
        }),
      'transform',
      { conf: { limit: 10 }, upstream: { extract: { rows: 3 } }, ti: { tryNumber: 2 } },
    );
    // Assess
    expect(outcome).toEqual({
      state: 'success',
      result: {
        ds: '2026-01-05',
        dsNodash: '20260105',
        interval: ['2026-01-05T00:00:00.000Z', '2026-01-05T01:00:00.000Z'],
        params: { table: 'events', limit: 10 },
        conf: { limit: 10 },
        upstream: { extract: { rows: 3 } },
        tryNumber: 2,
        at: new Date(T0).toISOString(),
      },
    });
    expect(lines).toEqual(['rows {"n":3}']);
  });

  it.each([
    {
      case: 'NonRetryableError fails for good',
      error: new NonRetryableError('bad input file'),
      outcome: { state: 'failed', retryable: false, error: 'bad input file' },
    },
    {
      case: 'RetryAfterError sets the retry delay',
      error: new RetryAfterError(90_000, 'rate limited'),
      outcome: { state: 'failed', retryAfterMs: 90_000, error: 'rate limited' },
    },
    {
      case: 'any other error may be retried',
      error: new TypeError('x is undefined'),
      outcome: { state: 'failed', error: 'x is undefined' },
    },
  ])('maps what the task throws to an outcome ($case)', async ({ error, outcome }) => {
    const result = await execute(
      (d) =>
        d.task('t', () => {
          throw error;
        }),
      't',
    );
    expect(result.outcome).toEqual(outcome);
  });

  it('fails for good when the result cannot be stored as JSON', async () => {
    const { outcome } = await execute((d) => d.task('t', () => ({ big: 10n })), 't');
    expect(outcome).toMatchObject({ state: 'failed', retryable: false });
    expect(outcome.error).toMatch(/result of t is not JSON-serializable/);
  });

  it('stores undefined as null and drops what JSON cannot carry', async () => {
    expect((await execute((d) => d.task('t', () => undefined), 't')).outcome).toEqual({
      state: 'success',
      result: null,
    });
    expect((await execute((d) => d.task('t', () => ({ a: 1, f: () => 1 })), 't')).outcome).toEqual({
      state: 'success',
      result: { a: 1 },
    });
  });

  it('gives up on a function that ignores the abort signal as soon as the try is aborted', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('execution timeout')), 50);
    const { outcome } = await execute((d) => d.task('t', () => new Promise(() => {})), 't', {
      signal: abort.signal,
    });
    expect(outcome).toEqual({ state: 'failed', error: 'execution timeout' });
  });
});

describe('LocalTaskExecutor: callbacks', () => {
  const withCallbacks = (calls: string[], fail: boolean) => (d: DagBuilder) =>
    d.task(
      't',
      {
        retries: 1,
        onSuccess: () => void calls.push('success'),
        onRetry: (ctx) => void calls.push(`retry: ${ctx.error}`),
        onFailure: (ctx) => void calls.push(`failure: ${ctx.error}`),
      },
      () => {
        if (fail) throw new Error('boom');
        return 1;
      },
    );

  it('calls onRetry while retries are left, onFailure after the last try, onSuccess on success', async () => {
    const calls: string[] = [];
    await execute(withCallbacks(calls, true), 't', { ti: { tryNumber: 1, maxTries: 1 } });
    await execute(withCallbacks(calls, true), 't', { ti: { tryNumber: 2, maxTries: 1 } });
    await execute(withCallbacks(calls, false), 't', { ti: { tryNumber: 1, maxTries: 1 } });
    expect(calls).toEqual(['retry: boom', 'failure: boom', 'success']);
  });

  it('logs a callback that throws and keeps the outcome', async () => {
    const { outcome, lines } = await execute(
      (d) =>
        d.task(
          't',
          {
            onSuccess: () => {
              throw new Error('slack is down');
            },
          },
          () => 1,
        ),
      't',
    );
    expect(outcome).toEqual({ state: 'success', result: 1 });
    expect(lines).toEqual(['onSuccess callback failed: slack is down']);
  });
});

describe('LocalTaskExecutor: other task kinds', () => {
  it('reschedules a sensor whose poke says not yet, and succeeds when it says done', async () => {
    expect((await execute((d) => d.sensor('s', { poke: () => false }), 's')).outcome).toEqual({
      state: 'up_for_reschedule',
    });
    expect((await execute((d) => d.sensor('s', { poke: async () => true }), 's')).outcome).toEqual({
      state: 'success',
      result: null,
    });
    expect(
      (await execute((d) => d.sensor('s', { poke: () => ({ done: true, result: { key: 'a' } }) }), 's'))
        .outcome,
    ).toEqual({ state: 'success', result: { key: 'a' } });
  });

  it('succeeds an empty task and refuses lambdaInvoke locally for good', async () => {
    expect((await execute((d) => d.empty('e'), 'e')).outcome).toEqual({ state: 'success', result: null });
    const { outcome } = await execute((d) => d.lambdaInvoke('l', { functionName: 'score' }), 'l');
    expect(outcome).toMatchObject({ state: 'failed', retryable: false });
    expect(outcome.error).toMatch(/lambdaInvoke of score needs AWS/);
  });

  it("runs a container task's command locally and says the image is not used", async () => {
    const { outcome, lines } = await execute(
      (d) => d.container('c', { image: 'python:3.12', command: ['echo', 'partition {{ ds_nodash }}'] }),
      'c',
    );
    expect(outcome).toEqual({ state: 'success', result: 'partition 20260105' });
    expect(lines[0]).toMatch(/image python:3.12 is not used/);
  });
});

describe('LocalTaskExecutor: http tasks', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const status = Number(req.url?.slice(1)) || 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, method: req.method }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('succeeds on 2xx with the status and the parsed JSON body', async () => {
    const { outcome } = await execute(
      (d) => d.http('h', { url: `${base}/200`, method: 'POST', body: {} }),
      'h',
    );
    expect(outcome).toEqual({
      state: 'success',
      result: { status: 200, body: { path: '/200', method: 'POST' } },
    });
  });

  it('fails on an unexpected status, and accepts the statuses listed in expectStatus', async () => {
    const failed = await execute((d) => d.http('h', { url: `${base}/503` }), 'h');
    expect(failed.outcome).toEqual({ state: 'failed', error: `GET ${base}/503 answered 503, expected 2xx` });
    const expected = await execute((d) => d.http('h', { url: `${base}/404`, expectStatus: [404] }), 'h');
    expect(expected.outcome.state).toBe('success');
  });

  it('says why the request could not be made', async () => {
    // Prepare: a port nobody listens on.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // Act
    const { outcome } = await execute((d) => d.http('h', { url }), 'h');
    // Assess
    expect(outcome.state).toBe('failed');
    expect(outcome.error).toMatch(new RegExp(`^GET ${url} failed: .*ECONNREFUSED`));
  });
});
