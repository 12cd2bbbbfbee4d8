/** `updraft backfill create|list|watch|cancel`: backfills through the API, with live progress. */
import { randomUUID } from 'node:crypto';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import pc from 'picocolors';
import type { Backfill, BackfillCreate, BackfillCreated, Dag } from '../../functions/api/wire.ts';
import type { ApiClient } from '../api/client.ts';
import {
  type ApiOptions,
  apiCommand,
  clientOf,
  duration,
  instantFlag,
  intFlag,
  jsonFlag,
  output,
  seg,
  withDagHint,
} from '../api/common.ts';
import { CliError, EXIT } from '../errors.ts';
import { table } from '../format/table.ts';

interface CreateOptions extends ApiOptions {
  dag: string;
  from: string;
  to: string;
  reprocess: string;
  backwards?: boolean;
  maxActiveRuns?: string;
  conf?: string;
  dryRun?: boolean;
  idempotencyKey?: string;
  wait: boolean;
  interval: string;
}

const REPROCESS = ['none', 'failed', 'completed'];

const day = (iso: string) => iso.replace(/T00:00:00\.000Z$/, '').replace('.000Z', 'Z');

function summaryLine(b: Backfill): string {
  const p = b.progress;
  const parts = [
    `${p.success} succeeded`,
    p.failed > 0 ? pc.red(`${p.failed} failed`) : `${p.failed} failed`,
    ...(p.running + p.queued + p.pending > 0 ? [`${p.running + p.queued + p.pending} not finished`] : []),
    ...(p.skipped > 0 ? [`${p.skipped} skipped`] : []),
  ];
  const took = b.completedAt ? ` in ${duration(Date.parse(b.completedAt) - Date.parse(b.createdAt))}` : '';
  return `backfill ${b.backfillId} ${b.state}${took}: ${p.total} runs — ${parts.join(', ')}`;
}

function progressLine(b: Backfill): string {
  const p = b.progress;
  const eta = p.etaMs === null ? '' : `, about ${duration(p.etaMs)} left`;
  return `${b.backfillId}: ${p.success + p.failed}/${p.total} done (${p.running} running, ${p.queued + p.pending} waiting, ${p.failed} failed)${eta}`;
}

/** 0 when every run succeeded; 1 when one failed or the backfill was cancelled. */
const exitOf = (b: Backfill) => (b.state === 'cancelled' || b.progress.failed > 0 ? EXIT.failed : EXIT.ok);

/**
 * Follows a backfill until it is no longer running: a live bar in a terminal, a line per change
 * otherwise; then the summary. Returns the last status.
 */
async function watchBackfill(
  client: ApiClient,
  backfillId: string,
  options: { json?: boolean; intervalMs: number },
): Promise<Backfill> {
  const read = () => client.get<Backfill>(`/backfills/${seg(backfillId)}`);
  let status = await read();
  const live = !options.json && process.stderr.isTTY;
  const bar = live
    ? new cliProgress.SingleBar(
        {
          format: `${backfillId} {bar} {percentage}% | {done}/{total} runs | {running} running, {failed} failed | {eta_text}`,
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const payload = (b: Backfill) => ({
    done: b.progress.success + b.progress.failed,
    running: b.progress.running,
    failed: b.progress.failed,
    eta_text: b.progress.etaMs === null ? 'eta: after the first run' : `eta: ${duration(b.progress.etaMs)}`,
  });
  bar?.start(status.progress.total, status.progress.success + status.progress.failed, payload(status));
  // Ctrl-C stops watching, not the backfill: say so, and give the terminal its cursor back.
  const onInterrupt = () => {
    bar?.stop();
    process.stderr.write(
      `\nstopped watching; backfill ${backfillId} goes on (updraft backfill watch ${backfillId}, or cancel it)\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  let last = '';
  while (true) {
    if (bar) {
      bar.setTotal(status.progress.total);
      bar.update(status.progress.success + status.progress.failed, payload(status));
    } else if (!options.json) {
      const line = progressLine(status);
      if (line !== last) process.stderr.write(`${line}\n`);
      last = line;
    }
    if (status.state !== 'running') break;
    await new Promise((r) => setTimeout(r, options.intervalMs));
    status = await read();
  }
  bar?.stop();
  process.off('SIGINT', onInterrupt);
  return status;
}

function intervalOf(value: string): number {
  const ms = Number(value) * 1000;
  if (!Number.isFinite(ms) || ms < 100) throw new CliError(`--interval must be seconds ≥ 0.1, got ${value}`);
  return ms;
}

function printPlan(created: BackfillCreated): string {
  const counts = new Map<string, number>();
  for (const p of created.plan) {
    const key = p.action === 'skip' ? `skip (${p.reason})` : p.action;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const rows = created.plan.map((p) => [day(p.logicalDate), p.action, p.reason ?? '', p.runId]);
  const summary = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
  return `${table(['logical date', 'action', 'reason', 'run'], rows)}\n${created.plan.length} logical dates: ${summary}`;
}

async function create(options: CreateOptions): Promise<number> {
  if (!REPROCESS.includes(options.reprocess))
    throw new CliError(`--reprocess must be none, failed or completed, got ${options.reprocess}`);
  const client = clientOf(options);
  const body: BackfillCreate = {
    dagId: options.dag,
    from: instantFlag(options.from, '--from'),
    to: instantFlag(options.to, '--to'),
    reprocessBehavior: options.reprocess as 'none' | 'failed' | 'completed',
    ...(options.backwards && { runBackwards: true }),
    ...(options.maxActiveRuns && { maxActiveRuns: intFlag(options.maxActiveRuns, '--max-active-runs', 1) }),
    ...(options.conf && { conf: jsonFlag(options.conf, '--conf') }),
    ...(options.dryRun && { dryRun: true }),
    // One key for this command: a retry after a lost answer gets the same backfill back.
    ...(!options.dryRun && { idempotencyKey: options.idempotencyKey ?? randomUUID() }),
  };
  const intervalMs = intervalOf(options.interval);
  const created = await withDagHint(client, options.dag, () =>
    client.request<BackfillCreated>('POST', '/backfills', { body, retrySafe: true }),
  );
  if (created.dryRun) {
    output(options, created, () => `${printPlan(created)}\ndry run: nothing was created`);
    return EXIT.ok;
  }
  const backfill = created.backfill!;
  if (!options.json) {
    const verb = created.replayed ? 'already created' : 'created';
    const skipped = backfill.progress.skipped ? `, ${backfill.progress.skipped} skipped` : '';
    process.stderr.write(
      `backfill ${backfill.backfillId} ${verb}: ${backfill.progress.total} runs over ${day(backfill.from)} … ${day(backfill.to)}${skipped}, ${backfill.maxActiveRuns} at a time\n`,
    );
  }
  if (!options.wait) {
    output(
      options,
      created,
      () => `${backfill.backfillId}\nfollow it with: updraft backfill watch ${backfill.backfillId}`,
    );
    return EXIT.ok;
  }
  const final = await watchBackfill(client, backfill.backfillId, { json: options.json, intervalMs });
  output(options, final, () => summaryLine(final));
  return exitOf(final);
}

async function list(options: ApiOptions & { dag?: string; all?: boolean }): Promise<number> {
  const client = clientOf(options);
  const dagIds = options.dag
    ? [options.dag]
    : (await client.all<Dag>('/dags', { includeInactive: true })).map((d) => d.dagId);
  const backfills: Backfill[] = [];
  for (const dagId of dagIds) {
    const items = await withDagHint(client, dagId, () => client.all<Backfill>('/backfills', { dagId }));
    backfills.push(...items);
  }
  backfills.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  const shown =
    options.all || options.dag ? backfills : backfills.filter((b, i) => b.state === 'running' || i < 20);
  output(options, { backfills: shown }, () => {
    if (shown.length === 0) return options.dag ? `no backfills of ${options.dag}` : 'no backfills';
    const rows = shown.map((b) => {
      const p = b.progress;
      return [
        b.backfillId,
        b.dagId,
        `${day(b.from)} … ${day(b.to)}`,
        b.state,
        `${Math.round(p.fraction * 100)}%`,
        `${p.success}/${p.failed}/${p.running}/${p.queued + p.pending}`,
        b.createdAt.slice(0, 19).replace('T', ' '),
      ];
    });
    return table(
      ['backfill', 'dag', 'range', 'state', 'done', 'ok/failed/running/waiting', 'created (UTC)'],
      rows,
    );
  });
  return EXIT.ok;
}

async function watch(backfillId: string, options: ApiOptions & { interval: string }): Promise<number> {
  const client = clientOf(options);
  const final = await watchBackfill(client, backfillId, {
    json: options.json,
    intervalMs: intervalOf(options.interval),
  });
  output(options, final, () => summaryLine(final));
  return exitOf(final);
}

async function cancel(backfillId: string, options: ApiOptions & { failRunning?: boolean }): Promise<number> {
  const client = clientOf(options);
  const status = await client.request<Backfill>('POST', `/backfills/${seg(backfillId)}/cancel`, {
    body: { ...(options.failRunning && { failRunning: true }) },
  });
  const p = status.progress;
  output(options, status, () =>
    p.running > 0
      ? `backfill ${backfillId} cancelled: ${p.running} running runs will finish, nothing more starts`
      : `backfill ${backfillId} cancelled: nothing more starts (${p.success} succeeded, ${p.failed} failed)`,
  );
  return EXIT.ok;
}

function registerBackfillCommands(program: Command, run: (code: Promise<number>) => Promise<void>): void {
  const backfill = program.command('backfill').description('Backfills of a deployment (through its API)');
  apiCommand(
    backfill
      .command('create')
      .description('Create a backfill over a range of logical dates, then follow it to the end')
      .requiredOption('--dag <dagId>', 'the DAG')
      .requiredOption('--from <date>', 'first logical date, inclusive (2026-01-01 or an ISO instant)')
      .requiredOption('--to <date>', 'last logical date, inclusive')
      .option(
        '--reprocess <behaviour>',
        'what to do with dates that have a finished run: none, failed, completed',
        'none',
      )
      .option('--backwards', 'start with the newest logical date')
      .option(
        '--max-active-runs <n>',
        "runs of this backfill at once (default 10), apart from the DAG's limit",
      )
      .option('--conf <json>', 'run conf for every run')
      .option('--dry-run', 'only print what it would do')
      .option(
        '--idempotency-key <key>',
        'reuse a key to retry a create safely (default: a new one per command)',
      )
      .option('--no-wait', 'print the id and return instead of following it')
      .option('--interval <seconds>', 'how often to read its progress', '1'),
  ).action((options: CreateOptions) => run(create(options)));
  apiCommand(
    backfill
      .command('list')
      .description('Backfills, newest first, with their progress')
      .option('--dag <dagId>', "only this DAG's")
      .option('--all', 'every backfill, not only running ones and the latest 20'),
  ).action((options) => run(list(options)));
  apiCommand(
    backfill
      .command('watch')
      .description('Follow a backfill to the end (exit 1 if a run failed or it was cancelled)')
      .argument('<backfillId>')
      .option('--interval <seconds>', 'how often to read its progress', '1'),
  ).action((id: string, options) => run(watch(id, options)));
  apiCommand(
    backfill
      .command('cancel')
      .description('Stop a backfill: no more runs start; queued ones fail; running ones finish')
      .argument('<backfillId>')
      .option('--fail-running', 'also mark its running runs failed'),
  ).action((id: string, options) => run(cancel(id, options)));
}

export { registerBackfillCommands, watchBackfill };
