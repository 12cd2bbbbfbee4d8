import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { SimReport } from '#simulator/report.ts';

const ROOT = join(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'cli/bin.mjs');
const FIXTURES = join(ROOT, 'test/fixtures');

async function updraft(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', TSX_DISABLE_CACHE: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('updraft CLI', () => {
  it('validates good DAGs with exit 0', async () => {
    const result = await updraft('dags', 'validate', join(FIXTURES, 'cli/ok.ts'));
    expect(result).toMatchObject({ code: 0, stdout: '1 DAG OK\n' });
  });

  it('lists every problem of a folder and exits 1', async () => {
    const result = await updraft('dags', 'validate', join(FIXTURES, 'dags'));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('fixture_cyclic: tasks: dependency cycle: a → b → a');
    expect(result.stdout).toContain('cannot load throws.ts: the warehouse connection string is not set');
  });

  it('lists the example DAGs with their schedules', async () => {
    const result = await updraft('dags', 'list', join(ROOT, 'examples/dags'), '--json');
    const parsed = JSON.parse(result.stdout) as { dags: { dagId: string; schedule: string }[] };
    expect(parsed.dags.map((d) => d.dagId)).toEqual([
      'diamond_cleanup',
      'fanout_weighted',
      'flaky_retries',
      'hourly_etl',
      'sensor_wait',
    ]);
    expect(parsed.dags.find((d) => d.dagId === 'hourly_etl')?.schedule).toBe('every hour (UTC)');
  });

  it('tests a DAG run in-process, passing results downstream, with exit 0', async () => {
    const result = await updraft('dags', 'test', join(FIXTURES, 'cli/ok.ts'), '--date', '2026-01-05');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('done for 2026-01-05');
    expect(result.stdout).toMatch(/run manual__2026-01-05T00:00:00\+00:00: success/);
  });

  it('exits 1 when the tested run fails, after skipping the retry delay', async () => {
    const result = await updraft('dags', 'test', join(FIXTURES, 'cli/fails.ts'));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('skipping 10m');
    expect(result.stdout).toMatch(/flaky\s+failed\s+2/);
    expect(result.stdout).toContain('upstream API is down');
  });

  it.each([
    {
      args: ['dags', 'validate', 'no/such/folder'],
      message: 'updraft: no/such/folder: no such file or folder',
    },
    {
      args: ['dags', 'test', join(FIXTURES, 'cli/ok.ts'), '--date', 'someday'],
      message: '--date someday is not a date',
    },
    {
      args: ['dags', 'test', join(FIXTURES, 'cli/ok.ts'), '--task', 'ghost'],
      message: 'no task ghost in DAG cli_ok',
    },
    {
      args: ['dags', 'test', join(FIXTURES, 'cli/ok.ts'), '--conf', '{bad'],
      message: '--conf is not valid JSON',
    },
    {
      args: ['simulate', join(FIXTURES, 'cli/ok.ts'), '--scenario', join(FIXTURES, 'cli/ok.ts')],
      message: 'is not valid JSON',
    },
    { args: ['dags', 'frobnicate'], message: "unknown command 'frobnicate'" },
  ])('refuses bad input with one line and exit 2: $args.1', async ({ args, message }) => {
    const result = await updraft(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });

  it('names the field of a bad scenario', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'updraft-'));
    const scenario = join(dir, 'bad.json');
    await writeFile(
      scenario,
      JSON.stringify({
        start: '2026-01-05T00:00:00Z',
        end: '2026-01-05T01:00:00Z',
        tasks: { '*': { duration: 'soon' } },
      }),
    );
    const result = await updraft('simulate', join(FIXTURES, 'cli/ok.ts'), '--scenario', scenario);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/tasks\.\*\.duration: must be a duration/);
  });

  it('simulates a workload and writes a report whose peaks stay within the limits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'updraft-'));
    const out = join(dir, 'report.json');
    const result = await updraft(
      'simulate',
      join(FIXTURES, 'cli/ok.ts'),
      '--scenario',
      join(FIXTURES, 'cli/scenario.json'),
      '--json',
      '--out',
      out,
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(await readFile(out, 'utf8')) as SimReport;
    expect(report.violations).toEqual([]);
    expect(report.runs.length).toBeGreaterThan(0);
    expect(report.peaks.global.peak).toBeLessThanOrEqual(32);
    expect(report.tries.every((t) => t.claimOrder === null || t.queuedAt !== null)).toBe(true);
  });
});
