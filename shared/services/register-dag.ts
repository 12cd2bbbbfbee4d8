/**
 * Registering a DAG version: store it (idempotent by content hash), warn about pools that do not
 * exist or are too small (the DAG still registers; its tasks wait and say why), and compute when
 * its next scheduled run is due.
 */
import type { DagManifest } from '#core/manifest.ts';
import type { DagRecord, Pool } from '#core/model.ts';
import { timeRestriction } from '#core/runs.ts';
import { timetableFor } from '#core/timetable.ts';
import type { ServiceDeps } from './deps.ts';

function poolWarnings(dag: DagManifest, pools: Pool[]): string[] {
  const byName = new Map(pools.map((p) => [p.name, p]));
  const warnings: string[] = [];
  for (const task of dag.tasks) {
    const pool = byName.get(task.pool);
    if (!pool) {
      warnings.push(
        `task ${task.taskId} uses pool ${task.pool}, which does not exist: its instances will wait until it is created (updraft pools set ${task.pool} <slots>)`,
      );
    } else if (pool.slots !== -1 && task.poolSlots > pool.slots) {
      warnings.push(
        `task ${task.taskId} needs ${task.poolSlots} slots but pool ${task.pool} has only ${pool.slots}: it cannot run until the pool is resized`,
      );
    }
  }
  return warnings;
}

async function registerDag(
  deps: ServiceDeps,
  manifest: DagManifest,
  opts: { now: number; fileloc: string | null },
): Promise<{ dag: DagRecord; newVersion: boolean; warnings: string[] }> {
  const warnings = poolWarnings(manifest, await deps.store.listPools());
  const { dag, newVersion } = await deps.store.registerDagVersion(manifest, { ...opts, warnings });
  deps.manifests.remember(manifest);
  const nextRun = timetableFor(manifest.schedule).nextRunInfo({
    lastAutomatedInterval: dag.lastAutomatedInterval,
    ...timeRestriction(manifest),
    catchup: manifest.catchup,
    now: opts.now,
  });
  const changed = JSON.stringify(nextRun) !== JSON.stringify(dag.nextRun);
  if (changed && (await deps.store.updateDag(dag.dagId, dag.updatedAt, { nextRun }, opts.now))) {
    await deps.schedules.setNextWakeUp(dag.dagId, nextRun ? nextRun.runAfter : null);
  }
  if (newVersion) deps.logger.info('DAG registered', { dagId: dag.dagId, version: manifest.hash, warnings });
  await deps.events.publish([{ type: 'dag_registered', dagId: dag.dagId }]);
  const latest = (await deps.store.getDag(dag.dagId)) ?? dag;
  return { dag: latest, newVersion, warnings };
}

export { poolWarnings, registerDag };
