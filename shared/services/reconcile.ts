/**
 * The reconciler as a service: recounts held slots from the holding task instances, compares them
 * with every counter, repairs drifted counters (each only where it still says what was read), and
 * reports every drift and every repair. The sweep calls it; tests call it at rest and during races
 * to prove there is nothing to repair. Drift means a bug, so every entry is logged as an error.
 */
import { counterKeyString } from '#core/model.ts';
import type { Drift, Reconciliation } from '#core/reconcile.ts';
import type { ServiceDeps } from './deps.ts';

const fields = (d: Drift) => ({
  counter: counterKeyString(d.counter),
  ...(d.shard !== undefined && { shard: d.shard }),
  used: d.used,
  held: d.held,
});

/** One run of the reconciler; `repair` defaults to true (the sweep's use). */
async function reconcileCounters(
  deps: ServiceDeps,
  opts: { repair?: boolean } = {},
): Promise<Reconciliation> {
  const report = await deps.store.reconcileCounters({ repair: opts.repair ?? true });
  const repaired = new Set(report.repaired);
  for (const d of report.drift) {
    deps.logger.error(
      repaired.has(d)
        ? 'slot counter drift repaired: a counter did not match the slots held (a bug)'
        : 'slot counter drift: a counter does not match the slots held (a bug)',
      fields(d),
    );
  }
  return report;
}

export { reconcileCounters };
