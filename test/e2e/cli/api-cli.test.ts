/**
 * The `updraft` binary against the local stack over HTTP, as a user runs it: one stack for the
 * file, every command run as `node cli/bin.mjs … --url <stack> ` with the stack's token in
 * UPDRAFT_TOKEN, checking what it prints and its exit code (docs/cli.md).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DAG_DEFAULTS } from '#core/dag-defaults.ts';
import { devRequestHandler, newApiToken } from '../../../cli/dev/http.ts';
import type { LocalStack } from '../../../cli/dev/stack.ts';
import { startTestStack, waitFor } from '../support/local-stack.ts';

const ROOT = join(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'cli/bin.mjs');

const SOURCE = `import { dag } from 'updraft/sdk';

export default dag('cli_e2e', { schedule: '@daily', startDate: '2026-01-01', catchup: false }, (d) => {
  const extract = d.task('extract', async () => 1);
  const load = d.task('load', async () => 'ok');
  extract.before(load);
});
`;

const token = newApiToken();
const DAG_DEFAULTS = { ...DEFAULT_DAG_DEFAULTS, retries: 1, retryDelayMs: 1_000 };
let stack: LocalStack;
let url: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function updraft(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [BIN, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        NO_COLOR: '1',
        UPDRAFT_TOKEN: token,
        UPDRAFT_CONFIG: join(ROOT, 'no-such-config.json'),
      },
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A command against the stack. */
const remote = (...args: string[]) => updraft(...args, '--url', url);

beforeAll(async () => {
  // DAG defaults of the deployment: `dags deploy` must compile with them (from /version) to expect
  // the versions the dag-processor registers.
  stack = await startTestStack({
    http: { port: 0, handler: devRequestHandler({ token }) },
    settings: { dagDefaults: DAG_DEFAULTS },
  });
  url = stack.endpoints.http!;
  await stack.putDagFile('cli_e2e.ts', SOURCE);
  await waitFor(
    'cli_e2e to register',
    () => stack.deps.store.getDag('cli_e2e'),
    (d) => d !== null,
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('updraft against the local stack', () => {
  it('says which URL it could not reach, and exits 3', async () => {
    const result = await updraft('pools', 'list', '--url', 'http://127.0.0.1:9');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /^updraft: cannot reach the Updraft API at http:\/\/127\.0\.0\.1:9\/api\/v1 .*is `npm start` running\?\n$/,
    );
  });

  it('exits 3 when the token is refused, and 2 with the close names for an unknown DAG', async () => {
    const refused = await updraft('pools', 'list', '--url', url, '--token', 'not-the-token-0123456789');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('refused the credentials');
    const unknown = await remote('runs', 'trigger', 'cli_e2');
    expect(unknown).toMatchObject({ code: 2, stderr: 'updraft: no DAG cli_e2: did you mean cli_e2e?\n' });
  });

  it('sets, lists and deletes a pool; deleting default_pool is refused with exit 1', async () => {
    const set = await remote('pools', 'set', 'cli_pool', '3', '--description', 'for the CLI test');
    expect(set).toMatchObject({ code: 0, stdout: 'pool cli_pool created: 3 slots\n' });
    const resized = await remote('pools', 'set', 'cli_pool', '5');
    expect(resized.stdout).toBe('pool cli_pool set: 5 slots\n');
    const list = await remote('pools', 'list', '--json');
    const pools = JSON.parse(list.stdout).pools as { name: string; slots: number }[];
    expect(pools.find((p) => p.name === 'cli_pool')).toMatchObject({ slots: 5 });
    expect((await remote('pools', 'delete', 'cli_pool')).code).toBe(0);
    const refused = await remote('pools', 'delete', 'default_pool');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^updraft: default_pool cannot be deleted/);
  });

  it('triggers a run and waits for it, lists it, and previews a clear', async () => {
    const run = await remote('runs', 'trigger', 'cli_e2e', '--conf', '{"from":"cli"}', '--wait');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^cli_e2e manual__\S+: success in /);
    const runId = run.stdout.split(' ')[1]!.replace(/:$/, '');
    const list = JSON.parse((await remote('runs', 'list', 'cli_e2e', '--json', '--state', 'success')).stdout);
    expect(list.runs.map((r: { runId: string }) => r.runId)).toContain(runId);
    const clear = await remote(
      'tasks',
      'clear',
      'cli_e2e',
      '--task',
      'extract',
      '--run-id',
      runId,
      '--downstream',
      '--dry-run',
    );
    expect(clear.code).toBe(0);
    expect(clear.stdout).toContain('would clear 2 task instances');
    expect(clear.stdout).toContain('dry run: nothing was changed');
    expect((await stack.deps.store.getRun('cli_e2e', runId))?.state).toBe('success');
  });

  it('runs a backfill to the end with a summary, lists it, and refuses a bad date with exit 2', async () => {
    const dry = await remote(
      'backfill',
      'create',
      '--dag',
      'cli_e2e',
      '--from',
      '2026-01-01',
      '--to',
      '2026-01-03',
      '--dry-run',
    );
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('3 logical dates: 3 create');
    const created = await remote(
      'backfill',
      'create',
      '--dag',
      'cli_e2e',
      '--from',
      '2026-01-01',
      '--to',
      '2026-01-03',
      '--max-active-runs',
      '2',
      '--interval',
      '0.2',
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^backfill cli_e2e__1 completed in .*: 3 runs — 3 succeeded, 0 failed\n$/);
    expect(created.stderr).toContain('backfill cli_e2e__1 created: 3 runs over 2026-01-01 … 2026-01-03');
    expect(created.stderr).toContain('3/3 done');
    const list = JSON.parse((await remote('backfill', 'list', '--dag', 'cli_e2e', '--json')).stdout);
    expect(list.backfills).toMatchObject([
      { backfillId: 'cli_e2e__1', state: 'completed', progress: { success: 3 } },
    ]);
    const watched = await remote('backfill', 'watch', 'cli_e2e__1', '--json');
    expect(JSON.parse(watched.stdout)).toMatchObject({ state: 'completed' });
    const cancel = await remote('backfill', 'cancel', 'cli_e2e__1');
    expect(cancel).toMatchObject({ code: 1, stderr: 'updraft: backfill cli_e2e__1 has already completed\n' });
    const bad = await remote(
      'backfill',
      'create',
      '--dag',
      'cli_e2e',
      '--from',
      'someday',
      '--to',
      '2026-01-03',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^updraft: --from someday is not a date/);
  });

  it('pauses and unpauses a DAG', async () => {
    expect((await remote('dags', 'pause', 'cli_e2e')).stdout).toBe(
      'cli_e2e paused: no new runs or tasks start\n',
    );
    expect((await stack.deps.store.getDag('cli_e2e'))?.paused).toBe(true);
    expect((await remote('dags', 'unpause', 'cli_e2e', '--json')).code).toBe(0);
    expect((await stack.deps.store.getDag('cli_e2e'))?.paused).toBe(false);
  });

  it('deploys a folder: registers what loads (at the versions the deployment’s DAG defaults give), reports the import errors, and exits 1', async () => {
    // Prepare: a good DAG with a relative import (bundled here), one whose id another file owns (the
    // dag-processor refuses it), and one that does not build (never uploaded).
    const dir = await mkdtemp(join(tmpdir(), 'updraft-deploy-'));
    await writeFile(join(dir, '_helper.mts'), 'export const rows = () => 42;\n');
    await writeFile(
      join(dir, 'good.ts'),
      `import { dag } from 'updraft/sdk';\nimport { rows } from './_helper.mts';\nexport default dag('cli_deployed', { schedule: null }, (d) => { d.task('count', async () => rows()); });\n`,
    );
    await writeFile(join(dir, 'taken.ts'), SOURCE);
    await writeFile(join(dir, 'broken.ts'), 'export default dag(\n');
    // Act
    const result = await remote('dags', 'deploy', dir, '--timeout', '60');
    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/good\.ts\s+cli_deployed\s+registered/);
    expect(result.stdout).toMatch(
      /taken\.ts\s+cli_e2e\s+import error\s+DAG cli_e2e is already defined in dags\/cli_e2e\.ts/,
    );
    expect(result.stdout).toMatch(/broken\.ts\s+not uploaded\s+syntax error/);
    expect(result.stdout).toContain('1 of 3 files registered');
    const deployed = await stack.deps.store.getDag('cli_deployed');
    expect(deployed).toMatchObject({ fileloc: 'dags/good.bundle.mjs', active: true });
    // Registered at the version the CLI expected, compiled over the deployment's DAG defaults.
    const manifest = await stack.deps.store.getDagVersion('cli_deployed', deployed!.currentVersion);
    expect(manifest?.tasks[0]).toMatchObject({ retries: 1, retryDelayMs: 1_000 });
  });
});
