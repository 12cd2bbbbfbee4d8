/**
 * Recounts held slots from the holding task instances and compares them with the counters. Run by
 * the sweep to report drift (which means a bug) and by tests at rest to prove there is none. The
 * two reads are not one snapshot, so drift seen while claims are in flight is read twice and only
 * reported when it is the same both times.
 */

import { counterKeyString } from '#core/model.ts';
import { type Drift, findDrift } from '#core/reconcile.ts';
import { allPages, type ServiceDeps } from './deps.ts';

async function measure(deps: ServiceDeps): Promise<Drift[]> {
  const holders = await allPages((cursor) => deps.store.listHoldingTis({ cursor }));
  const counters = await deps.store.listCounters();
  return findDrift(counters, holders);
}

async function reconcileCounters(deps: ServiceDeps): Promise<Drift[]> {
  const first = await measure(deps);
  if (first.length === 0) return [];
  const second = new Map(
    (await measure(deps)).map((d) => [`${counterKeyString(d.counter)}:${d.used}:${d.held}`, d]),
  );
  const stable = first.filter((d) => second.has(`${counterKeyString(d.counter)}:${d.used}:${d.held}`));
  for (const d of stable) {
    deps.logger.error('slot counter drift: a counter does not match the slots held', {
      counter: counterKeyString(d.counter),
      used: d.used,
      held: d.held,
    });
  }
  return stable;
}

export { reconcileCounters };
