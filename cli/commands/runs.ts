/** `updraft runs trigger|list` and `updraft tasks clear`: runs and task instances through the API. */
import type { Command } from 'commander';
import pc from 'picocolors';
import type { ClearRequest, ClearResult, Run, TriggerRun } from '../../functions/api/wire.ts';
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

const RUN_STATES = ['queued', 'running', 'success', 'failed'];

function colorState(state: string): string {
  if (state === 'success') return pc.green(state);
  if (state === 'failed' || state === 'upstream_failed') return pc.red(state);
  if (state === 'running') return pc.cyan(state);
  return state;
}

const when = (iso: string | null) => (iso ? iso.slice(0, 19).replace('T', ' ') : '');

async function waitForRun(client: ApiClient, dagId: string, runId: string, intervalMs: number): Promise<Run> {
  for (;;) {
    const run = await client.get<Run>(`/dags/${seg(dagId)}/runs/${seg(runId)}`);
    if (run.state === 'success' || run.state === 'failed') return run;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function trigger(
  dagId: string,
  options: ApiOptions & { conf?: string; logicalDate?: string; runId?: string; wait?: boolean },
): Promise<number> {
  const client = clientOf(options);
  const body: TriggerRun = {
    ...(options.conf && { conf: jsonFlag(options.conf, '--conf') }),
    ...(options.logicalDate && { logicalDate: instantFlag(options.logicalDate, '--logical-date') }),
    ...(options.runId && { runId: options.runId }),
  };
  const run = await withDagHint(client, dagId, () =>
    client.request<Run>('POST', `/dags/${seg(dagId)}/runs`, { body }),
  );
  if (!options.wait) {
    output(options, run, () => `triggered ${dagId} ${run.runId} (queued)`);
    return EXIT.ok;
  }
  if (!options.json) process.stderr.write(`triggered ${dagId} ${run.runId}; waiting for it to finish…\n`);
  const final = await waitForRun(client, dagId, run.runId, 500);
  output(
    options,
    final,
    () =>
      `${dagId} ${final.runId}: ${colorState(final.state)}${final.durationMs === null ? '' : ` in ${duration(final.durationMs)}`}`,
  );
  return final.state === 'success' ? EXIT.ok : EXIT.failed;
}

async function list(dagId: string, options: ApiOptions & { state?: string; limit: string }): Promise<number> {
  const states = options.state?.split(',').map((s) => s.trim()) ?? [];
  const bad = states.find((s) => !RUN_STATES.includes(s));
  if (bad) throw new CliError(`--state ${bad} is not a run state (${RUN_STATES.join(', ')})`);
  const limit = intFlag(options.limit, '--limit', 1);
  const client = clientOf(options);
  const page = await withDagHint(client, dagId, () =>
    client.get<{ items: Run[]; next: string | null }>(`/dags/${seg(dagId)}/runs`, {
      limit: Math.min(limit, 500),
      ...(states.length > 0 && { state: states.join(',') }),
    }),
  );
  const runs = page.items.slice(0, limit);
  output(options, { runs }, () => {
    if (runs.length === 0) return `no runs of ${dagId}${states.length ? ` in ${states.join(', ')}` : ''}`;
    const rows = runs.map((r) => [
      r.runId,
      r.runType,
      colorState(r.state),
      when(r.logicalDate),
      when(r.startedAt),
      r.durationMs === null ? '' : duration(r.durationMs),
      r.backfillId ?? '',
    ]);
    return table(['run', 'type', 'state', 'logical date (UTC)', 'started', 'took', 'backfill'], rows);
  });
  return EXIT.ok;
}

interface ClearOptions extends ApiOptions {
  task: string[];
  runId?: string;
  from?: string;
  to?: string;
  downstream?: boolean;
  onlyFailed?: boolean;
  dryRun?: boolean;
}

async function clear(dagId: string, options: ClearOptions): Promise<number> {
  const taskIds = options.task
    .flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  if (taskIds.length === 0) throw new CliError('--task names at least one task to clear');
  if (!options.runId && !(options.from && options.to))
    throw new CliError('say which runs: --run-id <runId>, or --from <date> --to <date>');
  if (options.runId && (options.from || options.to))
    throw new CliError('give --run-id or --from/--to, not both');
  const body: ClearRequest = {
    taskIds,
    ...(options.runId && { runId: options.runId }),
    ...(options.from && { from: instantFlag(options.from, '--from') }),
    ...(options.to && { to: instantFlag(options.to, '--to') }),
    ...(options.downstream && { includeDownstream: true }),
    ...(options.onlyFailed && { onlyFailed: true }),
    ...(options.dryRun && { dryRun: true }),
  };
  const client = clientOf(options);
  const result = await withDagHint(client, dagId, () =>
    client.request<ClearResult>('POST', `/dags/${seg(dagId)}/clearTaskInstances`, { body }),
  );
  output(options, result, () => {
    const rows = result.cleared.map((t) => [
      t.runId,
      t.mapIndex >= 0 ? `${t.taskId}[${t.mapIndex}]` : t.taskId,
      colorState(t.state),
      String(t.tryNumber),
    ]);
    const verb = result.dryRun ? 'would clear' : 'cleared';
    const lines = [
      ...(rows.length ? [table(['run', 'task', 'was', 'try'], rows)] : []),
      `${verb} ${result.cleared.length} task instance${result.cleared.length === 1 ? '' : 's'}` +
        (result.runsRequeued.length ? `; ${result.runsRequeued.length} finished run(s) back to queued` : ''),
      ...(result.skipped.length
        ? [
            `${result.skipped.length} changed while clearing and were left alone: run it again to include them`,
          ]
        : []),
      ...(result.dryRun ? ['dry run: nothing was changed'] : []),
    ];
    return lines.join('\n');
  });
  return EXIT.ok;
}

function registerRunCommands(program: Command, run: (code: Promise<number>) => Promise<void>): void {
  const runs = program.command('runs').description('DAG runs of a deployment (through its API)');
  apiCommand(
    runs
      .command('trigger')
      .description('Trigger a manual run')
      .argument('<dagId>')
      .option('--conf <json>', 'run conf (ctx.conf), a JSON object')
      .option('--logical-date <date>', 'logical date (default: now)')
      .option('--run-id <runId>', 'run id (default: manual__<logical date>)')
      .option('--wait', 'wait for the run to finish (exit 1 if it failed)'),
  ).action((dagId: string, options) => run(trigger(dagId, options)));
  apiCommand(
    runs
      .command('list')
      .description('Runs of a DAG, newest logical date first')
      .argument('<dagId>')
      .option('--state <states>', 'only these states, comma-separated (queued,running,success,failed)')
      .option('--limit <n>', 'at most this many', '25'),
  ).action((dagId: string, options) => run(list(dagId, options)));

  const tasks = program.command('tasks').description('Task instances of a deployment (through its API)');
  apiCommand(
    tasks
      .command('clear')
      .description('Clear task instances so they run again (and their runs with them)')
      .argument('<dagId>')
      .requiredOption('--task <taskIds...>', 'tasks to clear (repeat, or comma-separated)')
      .option('--run-id <runId>', 'in this run')
      .option('--from <date>', 'in every run with a logical date from here…')
      .option('--to <date>', '…to here (inclusive)')
      .option('--downstream', 'also every task after them')
      .option('--only-failed', 'only failed and upstream_failed instances')
      .option('--dry-run', 'only list what would be cleared'),
  ).action((dagId: string, options) => run(clear(dagId, options)));
}

export { registerRunCommands };
