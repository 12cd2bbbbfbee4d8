/**
 * The memory store's task instances, by DAG, then run, then task: each lookup hashes the key's own
 * strings (the ids a record carries, hashed once by the engine and usually the very same strings)
 * instead of a key string built per call, which in a table of a day's 240,000 instances meant
 * building, hashing and comparing a ~60-character string on every read and write. Each instance
 * sits in a slot the store replaces its frozen record in, so a run's instances are listed without
 * any lookup, and the indexes (claim candidates, holders, due waits) hold slots, not keys.
 */
import type { TaskInstance, TiKey } from '#core/model.ts';

/** Where one task instance's current (frozen) record lives. Never handed out. */
export interface Slot {
  ti: TaskInstance;
}

/** A run's instances in creation order, and by task. */
interface RunTis {
  slots: Slot[];
  byTask: Map<string, Slot>;
}

/** Unmapped instances (mapIndex -1, nearly all) are found by their task id alone. */
function taskKey(key: TiKey): string {
  return key.mapIndex === -1 ? key.taskId : `${key.taskId}[${key.mapIndex}]`;
}

class TiTable {
  readonly #byDag = new Map<string, Map<string, RunTis>>();

  #run(dagId: string, runId: string): RunTis | undefined {
    return this.#byDag.get(dagId)?.get(runId);
  }

  slot(key: TiKey): Slot | undefined {
    return this.#run(key.dagId, key.runId)?.byTask.get(taskKey(key));
  }

  get(key: TiKey): TaskInstance | undefined {
    return this.slot(key)?.ti;
  }

  /** A new instance's slot, appended to its run's list. */
  insert(ti: TaskInstance): Slot {
    let runs = this.#byDag.get(ti.dagId);
    if (!runs) {
      runs = new Map();
      this.#byDag.set(ti.dagId, runs);
    }
    let run = runs.get(ti.runId);
    if (!run) {
      run = { slots: [], byTask: new Map() };
      runs.set(ti.runId, run);
    }
    const slot: Slot = { ti };
    run.slots.push(slot);
    run.byTask.set(taskKey(ti), slot);
    return slot;
  }

  /** A run's instances in creation order. */
  list(dagId: string, runId: string): TaskInstance[] {
    return this.#run(dagId, runId)?.slots.map((s) => s.ti) ?? [];
  }
}

export { TiTable };
