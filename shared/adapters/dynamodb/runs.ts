/**
 * Creating a run with its task instances, idempotently and never visibly half-done. Instances in
 * state none are packed into block items (pending.ts), so "instances" below are the blocks plus any
 * instance created in another state (one item each):
 *
 *   run + instances ≤ 100 items  → one transaction, every put `if absent`;
 *   larger                       → the run `if absent`, marked incomplete (`tisComplete = 0`, not in
 *                                  the unfinished-runs index), then each instance `if absent`, then
 *                                  the run marked complete (listed) under `tisComplete = 0`.
 *   run already there            → a repeat: write the instances it lacks, complete it if it is not.
 *
 * A call that dies half-way leaves an incomplete run no scheduler acts on; the next createRun for
 * the same runId (the scheduler recomputes it, since the DAG's next run did not advance) completes it.
 */
import type { DagRun, TaskInstance } from '#core/model.ts';
import { both, itemAbsent, runIncomplete, runStillAsRead } from './conditions.ts';
import { isIncompleteRun, runItem, runOf, tiItem } from './entities.ts';
import type { Items } from './items.ts';
import { keys } from './keys.ts';
import { checkItem, type Item, N, S } from './marshal.ts';
import { blockItems, isBlock, isPending, tisOfBlock } from './pending.ts';
import { backoff, MAX_ACTIONS, MAX_ATTEMPTS, newToken, transact, withOldItems } from './transact.ts';

/** Puts written at once while filling a large run. */
const CONCURRENCY = 25;

async function inParallel<T>(list: T[], limit: number, body: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < list.length; i += limit) await Promise.all(list.slice(i, i + limit).map(body));
}

/** The items of a run's instances: blocks of the pending ones, one item for each other one. */
function instanceItems(run: DagRun, tis: TaskInstance[]): Item[] {
  return [...blockItems(run, tis.filter(isPending)), ...tis.filter((ti) => !isPending(ti)).map(tiItem)];
}

/**
 * Writes the instances the run does not have yet, neither as items nor in a block (each put `if
 * absent`, so racing writers agree): the pending ones in new blocks after the last one.
 */
async function writeMissingTis(items: Items, run: DagRun, tis: TaskInstance[]): Promise<void> {
  // `TI` covers both the instances' items (TI#…) and the blocks (TIS#…).
  const read = await items.queryAll(
    { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :ti)', ConsistentRead: true },
    { ':pk': S(keys.run(run.dagId, run.runId).pk), ':ti': S('TI') },
  );
  const present = new Set<string>();
  let blocks = 0;
  for (const item of read) {
    if (!isBlock(item)) present.add(item.sk!.S!);
    else {
      blocks = Math.max(blocks, Number(item.sk!.S!.slice('TIS#'.length)) + 1);
      for (const ti of tisOfBlock(item)) present.add(keys.ti(ti).sk);
    }
  }
  const missing = tis.filter((ti) => !present.has(keys.ti(ti).sk));
  const writes = [
    ...blockItems(run, missing.filter(isPending), blocks),
    ...missing.filter((ti) => !isPending(ti)).map(tiItem),
  ];
  await inParallel(writes, CONCURRENCY, (item) => items.put(item, { condition: itemAbsent }));
}

/** Lists an incomplete run (puts it whole again, unmarked) unless someone else did first. */
async function completeRun(items: Items, dagId: string, runId: string): Promise<void> {
  const item = await items.get(keys.run(dagId, runId));
  if (!item || !isIncompleteRun(item)) return;
  const run = runOf(item);
  await items.put(runItem(run), {
    condition: both(runIncomplete, runStillAsRead),
    values: { ':false': N(0), ':expectedState': S(run.state) },
  });
}

async function repeat(items: Items, run: DagRun, tis: TaskInstance[]): Promise<{ created: boolean }> {
  const existing = await items.get(keys.run(run.dagId, run.runId));
  if (existing) checkItem(existing, 'run');
  await writeMissingTis(items, run, tis);
  await completeRun(items, run.dagId, run.runId);
  return { created: false };
}

async function createSmallRun(items: Items, run: DagRun, tis: TaskInstance[]): Promise<{ created: boolean }> {
  const actions = [runItem(run), ...instanceItems(run, tis)].map((item) =>
    withOldItems({ Put: { TableName: items.table, Item: item, ConditionExpression: itemAbsent } }),
  );
  const token = newToken();
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await transact(items.client, actions, token);
    if (outcome.kind === 'committed') return { created: true };
    if (outcome.kind === 'cancelled') {
      // Something exists already: the run (a repeat) or, oddly, some instances. Sort it out item by item.
      for (const reason of outcome.reasons) if (reason.item) checkItem(reason.item);
      return createLargeRun(items, run, tis);
    }
    if (attempt >= MAX_ATTEMPTS) throw new Error(`creating run ${run.dagId}/${run.runId}: ${outcome.why}`);
    await backoff(attempt);
  }
}

async function createLargeRun(items: Items, run: DagRun, tis: TaskInstance[]): Promise<{ created: boolean }> {
  const created = await items.put(runItem(run, true), { condition: itemAbsent });
  if (!created) return repeat(items, run, tis);
  await writeMissingTis(items, run, tis);
  await completeRun(items, run.dagId, run.runId);
  return { created: true };
}

async function createRun(items: Items, run: DagRun, tis: TaskInstance[]): Promise<{ created: boolean }> {
  return instanceItems(run, tis).length + 1 <= MAX_ACTIONS
    ? createSmallRun(items, run, tis)
    : createLargeRun(items, run, tis);
}

export { completeRun, createRun };
