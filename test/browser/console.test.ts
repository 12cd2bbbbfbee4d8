/**
 * The console in Chromium against the local stack (the real handlers, the API, the built console),
 * as a data engineer uses it: the DAG list → trigger a run with conf → watch it succeed in the grid →
 * open a task's log → resize a pool → start a backfill and watch its progress reach 100%.
 *
 * Every wait is on visible state with a generous timeout (CI is a loaded 2-core machine). With
 * UPDRAFT_SCREENSHOTS=<dir> (npm run screenshots) it also saves the pages as PNGs, on a richer scene
 * with the example DAGs.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerRun } from '#services/trigger-run.ts';
import type { LocalStack } from '../../cli/dev/stack.ts';
import { finishedRun, waitFor } from '../e2e/support/local-stack.ts';
import { launchChromium } from './support/browser.ts';
import { startConsoleStack, TOKEN } from './support/console-stack.ts';

const SHOTS = process.env.UPDRAFT_SCREENSHOTS;

const DEMO = `
import { dag, NonRetryableError } from 'updraft/sdk';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export default dag(
  'console_demo',
  {
    schedule: '@daily',
    startDate: '2026-01-01',
    tags: ['demo'],
    description: 'Extract, transform and load a day of orders',
    params: { rows: 100 },
  },
  (d) => {
    const extract = d.task('extract', async (ctx) => {
      ctx.log(\`extracting \${ctx.conf.rows ?? ctx.params.rows} rows for \${ctx.ds}\`);
      await sleep(400);
      return { rows: ctx.conf.rows ?? ctx.params.rows };
    });
    const transform = d.task('transform', async (ctx) => {
      await sleep(400);
      if (ctx.conf.fail) throw new NonRetryableError('3 orders without a customer id');
      return { deduplicated: true };
    });
    const load = d.task('load', { pool: 'warehouse', poolSlots: 2 }, async (ctx) => {
      ctx.log('loaded into the warehouse');
      return { loaded: true };
    });
    extract.before(transform).before(load);
  },
);
`;

/** Long tries on the warehouse pool, only for the screenshots: holders, and instances waiting for a slot. */
const SYNC = `
import { dag } from 'updraft/sdk';

export default dag('warehouse_sync', { schedule: null, startDate: '2026-01-01', tags: ['demo'] }, (d) => {
  for (const table of ['orders', 'customers', 'invoices', 'payments'])
    d.task(\`sync_\${table}\`, { pool: 'warehouse', poolSlots: 2 }, async (ctx) => {
      ctx.log(\`syncing \${table}\`);
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      return { table };
    });
});
`;

let stack: LocalStack;
let url: string;
let browser: Browser;

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  // Let bars finish their transition and the live indicator settle.
  await page.waitForTimeout(600);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** The example DAGs, a few runs of each, one failing: only for the screenshots. */
async function richScene(): Promise<void> {
  await stack.putDagFile('warehouse_sync.ts', SYNC);
  for (const file of ['hourly_etl.ts', 'diamond_cleanup.ts', 'flaky_retries.ts']) {
    await stack.putDagFile(file, readFileSync(`examples/dags/${file}`, 'utf8'));
  }
  const now = Date.now();
  const day = 86_400_000;
  const runs = [
    await triggerRun(stack.deps, { dagId: 'console_demo', now, logicalDate: now - 4 * day, conf: {} }),
    await triggerRun(stack.deps, {
      dagId: 'console_demo',
      now,
      logicalDate: now - 3 * day,
      conf: { fail: true },
    }),
    await triggerRun(stack.deps, { dagId: 'console_demo', now, logicalDate: now - 2 * day, conf: {} }),
    await triggerRun(stack.deps, { dagId: 'diamond_cleanup', now, logicalDate: now - 3 * day, conf: {} }),
    await triggerRun(stack.deps, {
      dagId: 'diamond_cleanup',
      now,
      logicalDate: now - 2 * day,
      conf: { fail: true },
    }),
    await triggerRun(stack.deps, { dagId: 'hourly_etl', now, logicalDate: now - 2 * 3_600_000, conf: {} }),
  ];
  for (const r of runs) await finishedRun(stack, r.dagId, r.runId, 120_000);
}

beforeAll(async () => {
  ({ stack, url } = await startConsoleStack({ pools: { warehouse: 8 } }));
  const [result] = (await stack.putDagFile('console_demo.ts', DEMO)) as { kind: string }[];
  expect(result?.kind).toBe('registered');
  // A DAG file that does not load: the list shows it in a banner.
  await stack.putDagFile(
    'broken_report.ts',
    "import { dag } from 'updraft/sdk';\nexport default dag('broken_report', {",
  );
  if (SHOTS) await richScene();
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the console on the local stack', () => {
  it('lists DAGs, triggers a run that succeeds in the grid, shows its log, resizes a pool and follows a backfill to 100%', {
    timeout: 600_000,
  }, async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(60_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    // The URL `npm start` prints carries the token once; the console keeps it and drops it from the address.
    await page.goto(`${url}/#token=${TOKEN}`);
    const row = page.locator('tr[data-dag="console_demo"]');
    await row.waitFor();
    expect(page.url()).not.toContain(TOKEN);
    await row.getByText('at 00:00 every day (UTC)').waitFor();
    await page.getByText('live').first().waitFor();
    const banner = page.getByRole('region', { name: 'Import errors' });
    await banner.getByText('1 DAG file failed to load').waitFor();
    await shot(page, 'dag-list');

    // Trigger with conf: a JSON mistake is caught before anything is sent.
    await row.getByRole('button', { name: 'Trigger console_demo' }).click();
    const trigger = page.getByRole('dialog', { name: 'Trigger console_demo' });
    const conf = trigger.getByLabel('Configuration (conf)');
    await conf.fill('{"rows": ');
    await trigger.getByText(/Not valid JSON/).waitFor();
    expect(await trigger.getByRole('button', { name: 'Trigger run' }).isDisabled()).toBe(true);
    await conf.fill('{"rows": 3}');
    await trigger.getByRole('button', { name: 'Trigger run' }).click();
    await page.waitForURL(/#\/dags\/console_demo\?.*run=manual__/);
    const runId = new URLSearchParams(page.url().split('?')[1]).get('run')!;

    // Watch it succeed in the grid, without reloading.
    await page
      .locator(`.run-bar-button[data-run="${runId}"][data-state="success"]`)
      .waitFor({ timeout: 180_000 });
    for (const task of ['extract', 'transform', 'load'])
      await page
        .locator(`button.cell[data-run="${runId}"][data-task="${task}"][data-state="success"]`)
        .waitFor();

    // A task's log, from the grid.
    await page.locator(`button.cell[data-run="${runId}"][data-task="extract"]`).click();
    const panel = page.getByRole('region', { name: 'Task instance extract' });
    await panel.getByRole('log').getByText('extracting 3 rows').waitFor();
    await panel.getByText('"rows": 3').waitFor();
    await shot(page, 'dag-grid');

    // Clear lists what it would clear (a dry run) and changes nothing until asked.
    await panel.getByRole('button', { name: 'Clear…' }).click();
    const clear = page.getByRole('dialog', { name: 'Clear extract' });
    await clear.getByText('Would clear 3').waitFor();
    await clear.getByLabel('With downstream tasks').uncheck();
    await clear.getByText('Would clear 1').waitFor();
    await clear.getByRole('button', { name: 'Cancel' }).click();
    expect((await stack.deps.store.getRun('console_demo', runId))?.state).toBe('success');

    await page.getByRole('tab', { name: 'graph' }).click();
    await page.locator('g.node[data-task="load"][data-state="success"]').waitFor();
    await shot(page, 'dag-graph');
    await page.getByRole('tab', { name: 'gantt' }).click();
    await page.locator('.gantt-row[data-task="load"] .seg.run').waitFor();
    await shot(page, 'dag-gantt');

    // Resize a pool in place.
    await page.locator('.topbar').getByRole('link', { name: 'Pools' }).click();
    const pool = page.locator('li[data-pool="warehouse"]');
    await pool.getByTestId('pool-slots').getByText('8').waitFor();
    await pool.getByRole('button', { name: 'Resize warehouse' }).click();
    await pool.getByLabel('Slots of warehouse').fill('4');
    await pool.getByRole('button', { name: 'Save' }).click();
    await pool.getByTestId('pool-slots').getByText('4').waitFor();
    expect((await stack.deps.store.getPool('warehouse'))?.slots).toBe(4);
    if (SHOTS) {
      // Two runs of four 2-slot tasks on a 4-slot pool: two hold it, the rest wait and say why.
      const now = Date.now();
      for (const minutes of [2, 1])
        await triggerRun(stack.deps, { dagId: 'warehouse_sync', now, logicalDate: now - minutes * 60_000 });
      await pool.getByRole('button', { name: 'Show holders (2)' }).click({ timeout: 120_000 });
      await pool.locator('.holders tbody tr').nth(1).waitFor();
      await shot(page, 'pools');
      await page.goto(`${url}/#/dags/warehouse_sync`);
      await page.locator('button.cell[data-state="scheduled"]').first().click({ timeout: 120_000 });
      await page.getByTestId('wait-reason').getByText('pool warehouse is full').waitFor();
      await shot(page, 'ti-waiting');
    }

    // A backfill: preview (dry run) first, then its live progress to 100%.
    await page.locator('.topbar').getByRole('link', { name: 'DAGs' }).click();
    await page.locator('tr[data-dag="console_demo"] a', { hasText: 'console_demo' }).click();
    await page.getByRole('button', { name: 'Backfill…' }).click();
    const backfill = page.getByRole('dialog', { name: 'Backfill console_demo' });
    await backfill.getByLabel('From (logical date, inclusive)').fill('2026-01-01');
    await backfill.getByLabel('To (inclusive)').fill('2026-01-03');
    await backfill.getByRole('button', { name: 'Preview (dry run)' }).click();
    await backfill.getByText('3 logical dates: 3 to create').waitFor();
    await shot(page, 'backfill-preview');
    await backfill.getByRole('button', { name: 'Start backfill' }).click();
    const progress = page.getByRole('dialog', { name: 'Backfill of console_demo' });
    await progress.getByRole('progressbar').waitFor();
    await progress
      .locator('[data-testid="backfill-percent"]', { hasText: '100%' })
      .waitFor({ timeout: 300_000 });
    expect(await progress.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    await shot(page, 'backfill');
    await progress.getByRole('button', { name: 'Close', exact: true }).click();

    // Every backfilled run succeeded, as the console said.
    const runs = await waitFor(
      'the backfill runs',
      () => stack.deps.store.listRuns('console_demo'),
      (p) => p.items.filter((r) => r.runType === 'backfill' && r.state === 'success').length === 3,
    );
    expect(runs.items.filter((r) => r.runType === 'backfill')).toHaveLength(3);

    if (SHOTS) {
      await page.goto(`${url}/#/dags/diamond_cleanup`);
      await page.locator('.run-bar-button[data-state="failed"]').first().click();
      await page.locator('button.cell[data-state="upstream_failed"]').first().waitFor();
      await page.locator('button.cell[data-task="validate"][data-state="failed"]').first().click();
      await page
        .getByRole('region', { name: 'Task instance validate' })
        .getByText('validation failed')
        .first()
        .waitFor();
      await shot(page, 'dag-failed');
      const phone = await browser.newPage({
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
      });
      await phone.goto(`${url}/#token=${TOKEN}`);
      await phone.locator('tr[data-dag="console_demo"]').waitFor();
      await shot(phone, 'phone-dag-list');
      await phone.goto(`${url}/#/dags/console_demo`);
      await phone.locator('button.cell[data-state="success"]').first().waitFor();
      await shot(phone, 'phone-dag');
      await phone.close();
    }
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
