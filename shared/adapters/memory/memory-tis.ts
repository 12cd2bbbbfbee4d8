/**
 * The memory store's task instances, by DAG, then run, then task: each lookup hashes the key's own
 * strings (the ids a record carries, hashed once by the engine and usually the very same strings)
 * instead of a key string built per call, which in a table of a day's 240,000 instances meant
 * building, hashing and comparing a ~60-character string on every read and write. Each instance
 * sits in a slot, so a run's instances are listed without any lookup, and the indexes (claim
 * candidates, holders, due waits) hold slots, not keys.
 *
 * A slot's record is changed in place by the store's writes and never handed out: readers get a
 * frozen snapshot (`view`), taken when first read after a write and shared by the reads until the
 * next write, so nothing a reader was handed ever changes. (A new frozen ~30-field record per write
 * kept a day's writes alive long enough for every young-generation collection to copy them.)
 */
import type { TaskInstance, TiKey } from '#core/model.ts';
import type { TryRecord } from '#core/try-history.ts';
import { ownValue } from './frozen.ts';

/** Where one task instance's current record lives. */
export interface Slot {
  /** The current record, owned by the store and changed in place by its writes; never handed out. */
  readonly live: TaskInstance;
  /** A frozen copy of `live` as of the last write, once read (null until then). */
  snap: TaskInstance | null;
  /** `live` has exactly the model's fields, so `copyOf` copies it whole. */
  modelShape: boolean;
  /** The counter ids of `live.holds` while it holds slots (see memory-counters.ts `idsOf`). */
  holdIds: readonly string[] | null;
  /**
   * Its bounded try history (core/try-history.ts), null before its first try ends. On the slot,
   * not in a WeakMap by slot: a day's 240,000 entries made every full collection walk them as ephemerons.
   */
  tries: TryRecord[] | null;
}

/**
 * A copy of an instance with exactly the model's fields, in the order the core creates them: built
 * from one literal, every copy has one shape, so code reading them stays monomorphic. (Freezing a
 * spread copy gave nearly every copy a shape of its own, and the evaluation's reads went megamorphic.)
 */
function copyOf(ti: TaskInstance): TaskInstance {
  return {
    dagId: ti.dagId,
    runId: ti.runId,
    taskId: ti.taskId,
    mapIndex: ti.mapIndex,
    state: ti.state,
    tryNumber: ti.tryNumber,
    maxTries: ti.maxTries,
    priorityWeight: ti.priorityWeight,
    pool: ti.pool,
    poolSlots: ti.poolSlots,
    executor: ti.executor,
    logicalDate: ti.logicalDate,
    dagVersion: ti.dagVersion,
    holds: ti.holds,
    scheduledAt: ti.scheduledAt,
    queuedAt: ti.queuedAt,
    startedAt: ti.startedAt,
    endedAt: ti.endedAt,
    heartbeatAt: ti.heartbeatAt,
    nextRetryAt: ti.nextRetryAt,
    rescheduleAt: ti.rescheduleAt,
    firstPokeAt: ti.firstPokeAt,
    dispatchAttempts: ti.dispatchAttempts,
    waitReason: ti.waitReason,
    workerId: ti.workerId,
    error: ti.error,
    result: ti.result,
  };
}

const FIELDS = Object.keys(copyOf({} as TaskInstance));

/** Whether `ti` has exactly the model's fields (anything else is copied field by field as it is). */
function hasModelFields(ti: object): boolean {
  const keys = Object.keys(ti);
  return keys.length === FIELDS.length && FIELDS.every((key) => Object.hasOwn(ti, key));
}

/**
 * A record the store can change in place, copied from a caller's instance once: the model's shape
 * when it has the model's fields, and each nested value the store's own (see frozen.ts `ownValue`).
 * Of the model's fields only `holds`, `waitReason` and `result` can hold objects.
 */
function liveRecord(ti: TaskInstance, modelShape: boolean): TaskInstance {
  if (modelShape) {
    const live = copyOf(ti);
    live.holds = ownValue(live.holds);
    live.waitReason = ownValue(live.waitReason);
    live.result = ownValue(live.result);
    return live;
  }
  const live: Record<string, unknown> = { ...ti };
  for (const key in live) live[key] = ownValue(live[key]);
  return live as unknown as TaskInstance;
}

/** What a reader is handed: a frozen copy of the slot's record, which no later write changes. */
function view(slot: Slot): TaskInstance {
  if (slot.snap === null) {
    const live = slot.live;
    slot.snap = Object.freeze(slot.modelShape ? copyOf(live) : { ...live });
  }
  return slot.snap;
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
    const slot = this.slot(key);
    return slot && view(slot);
  }

  /** A new instance's slot, appended to its run's list, with a copy of `ti` (the caller's) as its record. */
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
    const modelShape = hasModelFields(ti);
    const slot: Slot = {
      live: liveRecord(ti, modelShape),
      snap: null,
      modelShape,
      holdIds: null,
      tries: null,
    };
    run.slots.push(slot);
    run.byTask.set(taskKey(ti), slot);
    return slot;
  }

  /** A run's instances in creation order. */
  list(dagId: string, runId: string): TaskInstance[] {
    return this.#run(dagId, runId)?.slots.map(view) ?? [];
  }
}

export { TiTable, view };
