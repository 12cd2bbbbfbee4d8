/**
 * DAG files on the local stack: uploaded to the bucket's `dags/`, handed to the dag-processor as
 * S3 notifications. A broken upload is an import error and the last good version keeps running;
 * deleting the file deactivates the DAG and removes its wake-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerRun } from '#services/trigger-run.ts';
import type { LocalStack } from '../../../cli/dev/stack.ts';
import { deployDag, finishedRun, startTestStack } from '../support/local-stack.ts';

const FILE = 'versioned.ts';
const FILELOC = `dags/${FILE}`;

const version = (label: string) => `import { dag } from 'updraft/sdk';

export default dag('versioned', { schedule: '@daily', startDate: '2026-01-01' }, (d) => {
  d.task('which', async () => '${label}');
});
`;

/** A syntax error at line 4: the object literal never closes. */
const BROKEN = `import { dag } from 'updraft/sdk';

export default dag('versioned', { schedule: '@daily',
  d.task('which', async () => 'broken');
`;

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function runOnce(): Promise<{ version: string; result: unknown }> {
  const run = await triggerRun(stack.deps, { dagId: 'versioned', now: Date.now() });
  const { run: done, tis } = await finishedRun(stack, 'versioned', run.runId);
  expect(done.state).toBe('success');
  return { version: done.dagVersion, result: tis.get('which')?.result };
}

describe('DAG files on the local stack', { timeout: 120_000 }, () => {
  it('a broken upload becomes an import error while the last good version keeps running', async () => {
    // Prepare: a good version, running.
    await deployDag(stack, FILE, version('v1'));
    const good = (await stack.deps.store.getDag('versioned'))!;
    expect(await runOnce()).toEqual({ version: good.currentVersion, result: 'v1' });
    // Act: a broken upload of the same file.
    const before = Date.now();
    const [result] = (await stack.putDagFile(FILE, BROKEN)) as { kind: string; message: string }[];
    // Assess: the error names the file, what is wrong and when; the DAG keeps its version and schedule.
    expect(result).toMatchObject({ kind: 'import_error', message: expect.stringMatching(/syntax error/) });
    const errors = (await stack.deps.store.listImportErrors()).filter((e) => e.fileloc === FILELOC);
    expect(errors).toEqual([{ fileloc: FILELOC, message: result!.message, at: expect.any(Number) }]);
    expect(errors[0]!.at).toBeGreaterThanOrEqual(before);
    const record = (await stack.deps.store.getDag('versioned'))!;
    expect(record).toMatchObject({
      active: true,
      currentVersion: good.currentVersion,
      importError: { fileloc: FILELOC, message: result!.message },
    });
    expect(stack.schedules.pending().get('versioned')).toBe(record.nextRun!.runAfter);
    expect(await runOnce()).toEqual({ version: good.currentVersion, result: 'v1' });

    // A fixed upload clears the error, and new runs take the new version.
    await deployDag(stack, FILE, version('v2'));
    expect((await stack.deps.store.listImportErrors()).filter((e) => e.fileloc === FILELOC)).toEqual([]);
    const fixed = (await stack.deps.store.getDag('versioned'))!;
    expect(fixed.importError).toBeNull();
    expect(fixed.currentVersion).not.toBe(good.currentVersion);
    expect(await runOnce()).toEqual({ version: fixed.currentVersion, result: 'v2' });
  });

  it('deleting the file deactivates its DAG: no wake-up, no new runs', async () => {
    if (!(await stack.deps.store.getDag('versioned'))) await deployDag(stack, FILE, version('v1'));
    expect(stack.schedules.pending().has('versioned')).toBe(true);
    // Act
    const [result] = (await stack.deleteDagFile(FILE)) as { kind: string; deactivated: string[] }[];
    // Assess
    expect(result).toMatchObject({ kind: 'removed', deactivated: ['versioned'] });
    expect(await stack.deps.store.getDag('versioned')).toMatchObject({ active: false, nextRun: null });
    expect(stack.schedules.pending().has('versioned')).toBe(false);
    await expect(triggerRun(stack.deps, { dagId: 'versioned', now: Date.now() })).rejects.toThrow(
      'DAG versioned not found',
    );
  });
});
