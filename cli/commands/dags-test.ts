/**
 * `updraft dags test`: one DAG run in this process, on the real services and the in-memory store,
 * executing the real task code. Retry and sensor waits are skipped by moving the clock forward.
 */
import logUpdate from 'log-update';
import pc from 'picocolors';
import { LocalTaskExecutor } from '#adapters/local/task-executor.ts';
import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import type { DagDefinition } from '#core/definition.ts';
import { formatDuration } from '#core/duration.ts';
import type { DagManifest } from '#core/manifest.ts';
import { DEFAULT_SETTINGS, type TaskInstance, tiKeyString } from '#core/model.ts';
import { isRunFinished, type RunState } from '#core/states.ts';
import { describeWaitReason } from '#core/wait-reasons.ts';
import type { DispatchMessage } from '#ports';
import { ManifestCache, type ServiceDeps, silentLogger } from '#services/deps.ts';
import { registerDag } from '#services/register-dag.ts';
import { runTry } from '#services/run-try.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { table } from '../format/table.ts';

const STATE_COLOR: Partial<Record<TaskInstance['state'], (s: string) => string>> = {
  success: pc.green,
  failed: pc.red,
  upstream_failed: pc.yellow,
  up_for_retry: pc.yellow,
  up_for_reschedule: pc.cyan,
  running: pc.blue,
  queued: pc.gray,
  scheduled: pc.gray,
  skipped: pc.magenta,
};

function colorState(state: TaskInstance['state']): string {
  return (STATE_COLOR[state] ?? ((s: string) => s))(state);
}

function duration(ti: TaskInstance, now: number): string {
  if (ti.startedAt === null) return '';
  return formatDuration((ti.endedAt ?? now) - ti.startedAt);
}

function stateTable(tis: TaskInstance[], order: string[], now: number): string {
  const byTask = new Map(tis.map((ti) => [ti.taskId, ti]));
  const rows = order
    .map((id) => byTask.get(id))
    .filter((ti): ti is TaskInstance => ti !== undefined)
    .map((ti) => [
      ti.taskId,
      colorState(ti.state),
      ti.tryNumber > 0 ? String(ti.tryNumber) : '',
      duration(ti, now),
      ti.state === 'failed' || ti.state === 'up_for_retry'
        ? pc.dim(ti.error ?? '')
        : ti.waitReason
          ? pc.dim(describeWaitReason(ti.waitReason, now))
          : '',
    ]);
  return table(['TASK', 'STATE', 'TRY', 'TIME', ''], rows);
}

async function runDagTest(input: {
  manifest: DagManifest;
  dag: DagDefinition;
  fileloc: string;
  logicalDate?: number;
  conf: Record<string, unknown>;
  onlyTask?: string;
  /** Pool sizes; pools the DAG uses that are not given are created with 128 slots. */
  pools: Map<string, number>;
}): Promise<RunState> {
  const { manifest } = input;
  const live = process.stdout.isTTY === true;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  const store = new MemoryStateStore();
  const dispatched: DispatchMessage[] = [];
  const deps: ServiceDeps & { clock: typeof clock } = {
    store,
    clock,
    settings: DEFAULT_SETTINGS,
    logger: silentLogger,
    manifests: new ManifestCache(store),
    dispatcher: { dispatch: async (messages) => void dispatched.push(...messages) },
    events: { publish: async () => {} },
    schedules: { setNextWakeUp: async () => {} },
  };
  const say = (line: string) => {
    if (live) logUpdate.clear();
    console.log(line);
  };

  for (const pool of new Set([...manifest.tasks.map((t) => t.pool), ...input.pools.keys()])) {
    const slots = input.pools.get(pool) ?? (await store.getPool(pool))?.slots ?? 128;
    await store.putPool({ name: pool, slots, description: 'created by dags test', includeDeferred: false });
    if (!input.pools.has(pool) && pool !== 'default_pool')
      say(pc.dim(`pool ${pool}: ${slots} slots (set with --pool ${pool}=N)`));
  }
  await registerDag(deps, manifest, { now: clock.now(), fileloc: input.fileloc });
  const record = await store.getDag(manifest.dagId);
  if (record?.warnings.length) for (const w of record.warnings) say(pc.yellow(`warning: ${w}`));
  // Unpaused, with no scheduled run due: this test is the only run.
  if (record)
    await store.updateDag(manifest.dagId, record.updatedAt, { paused: false, nextRun: null }, clock.now());
  const run = await triggerRun(deps, {
    dagId: manifest.dagId,
    now: clock.now(),
    conf: input.conf,
    logicalDate: input.logicalDate,
  });
  say(`${pc.bold(manifest.dagId)} ${pc.dim(run.runId)}`);
  if (input.onlyTask) {
    const others = (await store.listTis(run.dagId, run.runId)).filter((ti) => ti.taskId !== input.onlyTask);
    await store.updateTis(
      others.map((ti) => ({
        key: ti,
        expect: { state: ti.state, tryNumber: ti.tryNumber },
        set: { state: 'success', endedAt: clock.now() },
      })),
    );
    say(pc.dim(`running only ${input.onlyTask}; the other tasks are marked success`));
  }

  const executor = new LocalTaskExecutor(() => input.dag.runtime);
  const order = manifest.tasks.map((t) => t.taskId);
  const inFlight = new Map<string, Promise<unknown>>();
  const render = async () => {
    const text = stateTable(await store.listTis(run.dagId, run.runId), order, clock.now());
    if (live) logUpdate(text);
  };

  let idle = 0;
  for (;;) {
    await schedulerPass(deps, {
      now: clock.now(),
      dagIds: [],
      runs: [{ dagId: run.dagId, runId: run.runId }],
    });
    for (const message of dispatched.splice(0)) {
      const id = tiKeyString(message.key);
      const log = (line: string) => say(`${pc.dim(`[${message.key.taskId}]`)} ${line}`);
      const promise = runTry(deps, message, {
        workerId: 'dags-test',
        executor,
        heartbeatEveryMs: 10_000,
        log,
      }).finally(() => inFlight.delete(id));
      inFlight.set(id, promise);
      if (!live)
        say(
          `${pc.dim(new Date(clock.now()).toISOString())} ${message.key.taskId}: running (try ${message.tryNumber})`,
        );
    }
    await render();
    const current = await store.getRun(run.dagId, run.runId);
    if (current && isRunFinished(current.state) && inFlight.size === 0) break;
    if (inFlight.size > 0) {
      idle = 0;
      await Promise.race(inFlight.values());
      continue;
    }
    const tis = await store.listTis(run.dagId, run.runId);
    const due = tis
      .map((ti) =>
        ti.state === 'up_for_retry'
          ? ti.nextRetryAt
          : ti.state === 'up_for_reschedule'
            ? ti.rescheduleAt
            : null,
      )
      .filter((t): t is number => t !== null)
      .sort((a, b) => a - b)[0];
    if (due !== undefined && due >= clock.now()) {
      const skip = due + 1 - clock.now();
      say(pc.dim(`skipping ${formatDuration(skip)} of waiting (retry delay or sensor interval)`));
      offset += skip;
      idle = 0;
      continue;
    }
    // Nothing runs and nothing is due: give the next pass a chance, then say why each task waits.
    idle += 1;
    if (idle < 3) continue;
    say(pc.red('the run cannot make progress:'));
    for (const ti of tis.filter((t) => t.waitReason))
      say(`  ${ti.taskId}: ${describeWaitReason(ti.waitReason!, clock.now())}`);
    break;
  }

  const final = (await store.getRun(run.dagId, run.runId))!;
  const tis = await store.listTis(run.dagId, run.runId);
  if (live) logUpdate.done();
  else console.log(stateTable(tis, order, clock.now()));
  const took = formatDuration((final.endedAt ?? clock.now()) - (final.startedAt ?? final.createdAt));
  const verdict = final.state === 'success' ? pc.green('success') : pc.red(final.state);
  const skipped = offset > 0 ? `, of which ${formatDuration(offset)} of waiting was skipped` : '';
  console.log(`\nrun ${final.runId}: ${verdict} in ${took}${skipped}${final.note ? ` (${final.note})` : ''}`);
  return final.state;
}

export { runDagTest };
