import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EsbuildDagBundler } from '#adapters/bundle/bundle-runtimes.ts';
import { MemoryBundleStore } from '#adapters/memory/index.ts';
import { DEFAULT_SETTINGS } from '#core/model.ts';
import { createHandler, type DagProcessorDeps } from '../../../functions/dag-processor/handler.ts';
import type { WorkerFunctionDeps } from '../../../functions/worker/dispatch.ts';
import { lambdaContext, makeTestDeps } from '../../support/function-deps.ts';

const GOOD = (taskId: string) => `
import { dag } from 'updraft/sdk';
export default dag('uploaded', { schedule: '@daily', startDate: '2026-01-01' }, (d) => {
  d.task('${taskId}', async () => ({ ok: true }));
});
`;

function s3Event(...records: { key: string; removed?: boolean }[]) {
  return {
    Records: records.map((r) => ({
      eventName: r.removed ? 'ObjectRemoved:Delete' : 'ObjectCreated:Put',
      s3: { object: { key: encodeURIComponent(r.key).replace(/%2F/g, '/') } },
    })),
  } as unknown as import('aws-lambda').S3Event;
}

function setup(settings?: WorkerFunctionDeps['settings']) {
  const t = makeTestDeps(settings && { settings });
  const files = new Map<string, string>();
  const bundles = new MemoryBundleStore();
  const deps: DagProcessorDeps = {
    ...t.deps,
    bundles,
    bundler: new EsbuildDagBundler({ dir: join(tmpdir(), 'updraft-test-bundles') }),
    readDagFile: async (key) => files.get(key) ?? null,
  };
  return { t, files, bundles, handler: createHandler(deps) };
}

describe('dag-processor handler', () => {
  it('compiles an uploaded DAG over the deployment’s DAG defaults, the DAG’s own options winning', async () => {
    // Prepare
    const dagDefaults = {
      maxActiveRuns: 3,
      maxActiveTasks: 5,
      maxConsecutiveFailedDagRuns: 2,
      retries: 4,
      retryDelayMs: 30_000,
      executionTimeoutMs: 600_000,
    };
    const { t, files, handler } = setup({ ...DEFAULT_SETTINGS, dagDefaults });
    files.set(
      'dags/limited.ts',
      `import { dag } from 'updraft/sdk';
export default dag('limited', { maxActiveTasks: 9, defaultArgs: { retryDelay: '2m' } }, (d) => {
  d.task('plain', async () => 1);
  d.task('own', { retries: 0, executionTimeout: null }, async () => 2);
});`,
    );
    // Act
    const [result] = await handler(s3Event({ key: 'dags/limited.ts' }), lambdaContext());
    // Assess
    expect(result).toMatchObject({ kind: 'registered' });
    const record = (await t.store.getDag('limited'))!;
    const manifest = (await t.store.getDagVersion('limited', record.currentVersion))!;
    expect(manifest).toMatchObject({ maxActiveRuns: 3, maxActiveTasks: 9, maxConsecutiveFailedDagRuns: 2 });
    expect(manifest.tasks.map((x) => [x.taskId, x.retries, x.retryDelayMs, x.executionTimeoutMs])).toEqual([
      ['own', 0, 120_000, null],
      ['plain', 4, 120_000, 600_000],
    ]);
  });

  it('builds, registers and schedules an uploaded DAG file, storing its bundle', async () => {
    // Prepare
    const { t, files, bundles, handler } = setup();
    files.set('dags/uploaded.ts', GOOD('extract'));
    // Act
    const [result] = await handler(s3Event({ key: 'dags/uploaded.ts' }), lambdaContext());
    // Assess
    expect(result).toMatchObject({ key: 'dags/uploaded.ts', kind: 'registered' });
    const record = await t.store.getDag('uploaded');
    expect(record).toMatchObject({ active: true, fileloc: 'dags/uploaded.ts', importError: null });
    expect(await bundles.getBundle('uploaded', record!.currentVersion)).toMatch(/extract/);
    expect(t.wakeUps.get('uploaded')).toBe(record!.nextRun!.runAfter);
  });

  it('keeps the last good version when a new upload is broken, and records the import error', async () => {
    const { t, files, handler } = setup();
    files.set('dags/uploaded.ts', GOOD('extract'));
    await handler(s3Event({ key: 'dags/uploaded.ts' }), lambdaContext());
    const good = (await t.store.getDag('uploaded'))!.currentVersion;
    files.set('dags/uploaded.ts', `import { dag } from 'updraft/sdk';\nexport default dag('uploaded', {`);
    const [result] = await handler(s3Event({ key: 'dags/uploaded.ts' }), lambdaContext());
    expect(result).toMatchObject({
      kind: 'import_error',
      message: expect.stringMatching(/^syntax error at line 2:/),
    });
    const record = await t.store.getDag('uploaded');
    expect(record?.currentVersion).toBe(good);
    expect(record?.importError).toMatchObject({ fileloc: 'dags/uploaded.ts', at: t.clock.now() });
    expect(await t.store.listImportErrors()).toHaveLength(1);
  });

  it.each([
    {
      case: 'a forbidden import',
      source: `import _ from 'lodash';\nexport const x = _;`,
      message: /cannot import "lodash"/,
    },
    { case: 'no DAG', source: 'export const x = 1;', message: /exports no DAG/ },
    {
      case: 'an invalid DAG',
      source: `import { dag } from 'updraft/sdk';\nexport default dag('bad', { schedule: '@daily', maxActiveRuns: 0 }, (d) => { d.empty('a'); });`,
      message: /bad: maxActiveRuns/,
    },
    {
      case: 'a file that throws',
      source: `throw new Error('no config');`,
      message: /threw while loading: no config/,
    },
  ])('turns $case into an import error', async ({ source, message }) => {
    const { t, files, handler } = setup();
    files.set('dags/broken.ts', source);
    const [result] = await handler(s3Event({ key: 'dags/broken.ts' }), lambdaContext());
    expect(result).toMatchObject({ kind: 'import_error', message: expect.stringMatching(message) });
    expect((await t.store.listImportErrors())[0]).toMatchObject({ fileloc: 'dags/broken.ts' });
  });

  it('makes a new version when only task code changes', async () => {
    const { t, files, handler } = setup();
    files.set('dags/uploaded.ts', GOOD('extract'));
    await handler(s3Event({ key: 'dags/uploaded.ts' }), lambdaContext());
    const first = (await t.store.getDag('uploaded'))!.currentVersion;
    files.set('dags/uploaded.ts', GOOD('extract').replace('ok: true', 'ok: false'));
    await handler(s3Event({ key: 'dags/uploaded.ts' }), lambdaContext());
    expect((await t.store.getDag('uploaded'))!.currentVersion).not.toBe(first);
  });

  it('deactivates the DAGs of a deleted file and removes their wake-up', async () => {
    const { t, files, handler } = setup();
    files.set('dags/uploaded.ts', GOOD('extract'));
    await handler(s3Event({ key: 'dags/uploaded.ts' }), lambdaContext());
    files.delete('dags/uploaded.ts');
    const [result] = await handler(s3Event({ key: 'dags/uploaded.ts', removed: true }), lambdaContext());
    expect(result).toMatchObject({ kind: 'removed', deactivated: ['uploaded'] });
    expect(await t.store.getDag('uploaded')).toMatchObject({ active: false, nextRun: null });
    expect(t.wakeUps.get('uploaded')).toBeNull();
  });

  it('refuses a second file defining a DAG id another file owns', async () => {
    const { files, handler } = setup();
    files.set('dags/uploaded.ts', GOOD('extract'));
    files.set('dags/copy.ts', GOOD('load'));
    await handler(s3Event({ key: 'dags/uploaded.ts' }), lambdaContext());
    const [result] = await handler(s3Event({ key: 'dags/copy.ts' }), lambdaContext());
    expect(result).toMatchObject({
      kind: 'import_error',
      message: expect.stringMatching(/already defined in dags\/uploaded.ts/),
    });
  });
});
