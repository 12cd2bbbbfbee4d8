/**
 * Watches a state store from the outside and keeps the history the report needs: every try of every
 * task instance with its state changes, claim order and wait reasons over time. It wraps the store
 * (its methods bound once, five of them observed) so the services under simulation run unchanged.
 *
 * A busy day records 240,000 tries and ~2.5 M state changes and wait reasons, all kept until the
 * report: as one object per try plus one per change, they were ~3 M long-lived objects that every
 * young-generation collection had to copy and promote. The history is kept in columns instead —
 * one array of numbers per field, one entry per try or per change (see `TryHistory`) — and tries
 * are found by their instance's ids in nested maps, with no key string built per recorded call.
 */
import type { TaskInstance, TiKey, WaitReason } from '#core/model.ts';
import { TI_STATES, type TiState } from '#core/states.ts';
import { sameWaitReason } from '#core/wait-reasons.ts';
import type { ClaimRequest, ClaimResult, StateStore, TiChange, TryEnd } from '#ports';

/**
 * A store the recorder can wrap: one that can show an instance's current record at once (the
 * memory store's `peekTi`) has a try opened without a read, a snapshot and an await per try.
 */
type PeekableStore = StateStore & { peekTi?(key: TiKey): Readonly<TaskInstance> | undefined };

/** Settled: what a try is opened after on a store that can peek (see `#onChange`). */
const OPENED = Promise.resolve();

/** What the recorder follows of one task instance: its current try and the last wait reason it was given. */
interface Followed {
  key: TiKey;
  /** Index of its current try in the columns; -1 before its first. */
  current: number;
  /** undefined until a reason is first set. */
  lastWait: WaitReason | null | undefined;
}

/** A state's code in the columns: 0 for none yet (null), else its place in TI_STATES plus one. */
const STATE_CODE = new Map<TiState, number>(TI_STATES.map((s, i) => [s, i + 1]));
const stateOf = (code: number): TiState | null => (code === 0 ? null : TI_STATES[code - 1]!);

/**
 * The recorded tries as columns, aligned by try index (creation order): numbers use NaN for null.
 * Each log (transitions, waits, held intervals) is in recording order with the index of its try;
 * `entriesOf` groups a log by try.
 */
export interface TryHistory {
  count: number;
  /** The instance of each try (one key object per instance, shared by its tries). */
  key: TiKey[];
  tryNumber: number[];
  pool: string[];
  poolSlots: number[];
  priorityWeight: number[];
  claimOrder: number[];
  scheduledAt: number[];
  queuedAt: number[];
  startedAt: number[];
  endedAt: number[];
  /** The try's final state code (see `stateOf`). */
  state: number[];
  transitions: { try: number[]; at: number[]; state: number[] };
  waits: { try: number[]; at: number[]; reason: WaitReason[] };
  /** Intervals during which a try held slots (queued or running): `to` NaN while still held. */
  held: { try: number[]; from: number[]; to: number[] };
}

/** A log's entry indexes grouped by try: entries of try i are `order[start[i]] … order[start[i + 1] - 1]`, in recording order. */
function entriesOf(tries: number, logTry: readonly number[]): { start: Int32Array; order: Int32Array } {
  const start = new Int32Array(tries + 1);
  for (const t of logTry) start[t + 1]! += 1;
  for (let i = 0; i < tries; i += 1) start[i + 1]! += start[i]!;
  const fill = start.slice(0, tries);
  const order = new Int32Array(logTry.length);
  for (let e = 0; e < logTry.length; e += 1) order[fill[logTry[e]!]!++] = e;
  return { start, order };
}

/** Unmapped instances (mapIndex -1, nearly all) are found by their task id alone. */
const taskKey = (key: TiKey) => (key.mapIndex === -1 ? key.taskId : `${key.taskId}[${key.mapIndex}]`);

class Recorder {
  readonly history: TryHistory = {
    count: 0,
    key: [],
    tryNumber: [],
    pool: [],
    poolSlots: [],
    priorityWeight: [],
    claimOrder: [],
    scheduledAt: [],
    queuedAt: [],
    startedAt: [],
    endedAt: [],
    state: [],
    transitions: { try: [], at: [], state: [] },
    waits: { try: [], at: [], reason: [] },
    held: { try: [], from: [], to: [] },
  };
  /** The last held interval of each try, by try index; -1 for none. */
  readonly #lastHeld: number[] = [];
  /** By DAG id, run id and task key: lookups hash the ids the services pass, no key string is built. */
  readonly #followed = new Map<string, Map<string, Map<string, Followed>>>();
  #claims = 0;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /**
   * The store, observed: every method of `store` bound once, with the five that change task
   * instances wrapped to record what they applied. (A Proxy cost a trap and a bound function per
   * call, on every store call of every pass.)
   */
  wrap(store: PeekableStore): StateStore {
    const observed: Record<string, unknown> = {};
    for (let proto = store; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        const value = (store as unknown as Record<string, unknown>)[name];
        if (name !== 'constructor' && !(name in observed) && typeof value === 'function')
          observed[name] = value.bind(store);
      }
    }
    const recording: Partial<StateStore> = {
      updateTis: async (changes: TiChange[]) => {
        const result = await store.updateTis(changes);
        if (result.applied.length === 0) return result;
        // Nearly always every change applied; otherwise only the changes of instances that applied count.
        const applied =
          result.applied.length === changes.length ? null : new Set(result.applied.map(tiKeyId));
        for (const change of changes) {
          if (applied && !applied.has(tiKeyId(change.key))) continue;
          const opening = this.#onChange(store, change);
          if (opening) await opening;
          // The claim step writes what it schedules and does not claim with its wait reason in the put.
          const reason = change.set.waitReason;
          if (change.set.state === 'scheduled' && reason) this.#onWait(change.key, reason);
        }
        return result;
      },
      claim: async (requests: ClaimRequest[]) => {
        const result: ClaimResult = await store.claim(requests);
        // The memory store reports a claim by its request's own key object: found by identity,
        // else (another store) by the key's ids.
        const byKey = new Map<TiKey, ClaimRequest>(requests.map((r) => [r.key, r]));
        let byId: Map<string, ClaimRequest> | null = null;
        const requestOf = (key: TiKey) => {
          const found = byKey.get(key);
          if (found) return found;
          byId ??= new Map(requests.map((r) => [tiKeyId(r.key), r]));
          return byId.get(tiKeyId(key));
        };
        for (const key of result.claimed) {
          // Scheduled and claimed in one write: the scheduling change is recorded first, at the same instant.
          const schedule = requestOf(key)?.schedule;
          if (schedule) {
            const { read, set } = schedule;
            const opening = this.#onChange(store, {
              key,
              expect: { state: read.state, tryNumber: read.tryNumber },
              set,
            });
            if (opening) await opening;
          }
          this.#onClaim(key);
        }
        return result;
      },
      startTry: async (key: TiKey, tryNumber: number, opts: { now: number; workerId: string }) => {
        const ok = await store.startTry(key, tryNumber, opts);
        if (ok) {
          const i = this.#transition(key, 'running');
          const h = this.history;
          if (i >= 0 && Number.isNaN(h.startedAt[i]!)) h.startedAt[i] = this.#now();
        }
        return ok;
      },
      endTry: async (end: TryEnd) => {
        const ok = await store.endTry(end);
        if (ok) this.#onEnd(end);
        return ok;
      },
      setWaitReasons: async (reasons: { key: TiKey; reason: WaitReason | null }[]) => {
        await store.setWaitReasons(reasons);
        for (const { key, reason } of reasons) this.#onWait(key, reason);
      },
    };
    return Object.assign(observed, recording) as unknown as StateStore;
  }

  /**
   * Records a change that applied. Synchronous for a change of the instance's current try; a
   * promise when it opens a try (the instance is read for its pool and priority: peeked at on a
   * store that can, without a snapshot of it).
   */
  #onChange(store: PeekableStore, change: TiChange): Promise<void> | undefined {
    const state = change.set.state;
    if (!state) return undefined;
    const tryNumber = change.set.tryNumber ?? change.expect.tryNumber;
    const i = this.#find(change.key)?.current ?? -1;
    if (i >= 0 && this.history.tryNumber[i] === tryNumber && state !== 'none') {
      this.#changed(i, state);
      return undefined;
    }
    const { peekTi } = store;
    // Opened a microtask later all the same, as after a read: the order tries are opened in is
    // the report's order (of its peaks), and the calls around it keep their interleaving.
    if (peekTi) {
      return OPENED.then(() => {
        const ti = peekTi.call(store, change.key);
        if (ti) this.#changed(this.#open(ti, tryNumber), state);
      });
    }
    return store.getTi(change.key).then((ti) => {
      if (ti) this.#changed(this.#open(ti, tryNumber), state);
    });
  }

  #changed(i: number, state: TiState): void {
    const h = this.history;
    const now = this.#now();
    if (state === 'scheduled' && Number.isNaN(h.scheduledAt[i]!)) h.scheduledAt[i] = now;
    this.#push(i, state);
    if (state !== 'scheduled' && state !== 'none') {
      if (Number.isNaN(h.endedAt[i]!)) h.endedAt[i] = now;
      h.state[i] = STATE_CODE.get(state)!;
    }
  }

  #open(ti: Readonly<TaskInstance>, tryNumber: number): number {
    const h = this.history;
    const followed = this.#follow(ti);
    const i = h.count;
    h.count += 1;
    h.key.push(followed.key);
    h.tryNumber.push(tryNumber);
    h.pool.push(ti.pool);
    h.poolSlots.push(ti.poolSlots);
    h.priorityWeight.push(ti.priorityWeight);
    h.claimOrder.push(Number.NaN);
    h.scheduledAt.push(Number.NaN);
    h.queuedAt.push(Number.NaN);
    h.startedAt.push(Number.NaN);
    h.endedAt.push(Number.NaN);
    h.state.push(0);
    this.#lastHeld.push(-1);
    followed.current = i;
    return i;
  }

  #find(key: TiKey): Followed | undefined {
    return this.#followed.get(key.dagId)?.get(key.runId)?.get(taskKey(key));
  }

  #follow(key: TiKey): Followed {
    let runs = this.#followed.get(key.dagId);
    if (!runs) {
      runs = new Map();
      this.#followed.set(key.dagId, runs);
    }
    let tasks = runs.get(key.runId);
    if (!tasks) {
      tasks = new Map();
      runs.set(key.runId, tasks);
    }
    const id = taskKey(key);
    let followed = tasks.get(id);
    if (!followed) {
      const own = { dagId: key.dagId, runId: key.runId, taskId: key.taskId, mapIndex: key.mapIndex };
      followed = { key: own, current: -1, lastWait: undefined };
      tasks.set(id, followed);
    }
    return followed;
  }

  #push(i: number, state: TiState): void {
    const log = this.history.transitions;
    log.try.push(i);
    log.at.push(this.#now());
    log.state.push(STATE_CODE.get(state)!);
  }

  /** Records a state change of the instance's current try; its index, or -1 if none is followed. */
  #transition(key: TiKey, state: TiState): number {
    const i = this.#find(key)?.current ?? -1;
    if (i >= 0) this.#push(i, state);
    return i;
  }

  #onClaim(key: TiKey): void {
    this.#claims += 1;
    const now = this.#now();
    const i = this.#transition(key, 'queued');
    if (i < 0) return;
    const h = this.history;
    if (Number.isNaN(h.claimOrder[i]!)) h.claimOrder[i] = this.#claims;
    if (Number.isNaN(h.queuedAt[i]!)) h.queuedAt[i] = now;
    this.#lastHeld[i] = h.held.try.length;
    h.held.try.push(i);
    h.held.from.push(now);
    h.held.to.push(Number.NaN);
  }

  #onEnd(end: TryEnd): void {
    const now = this.#now();
    const i = this.#transition(end.key, end.set.state);
    if (i < 0) return;
    const h = this.history;
    const open = this.#lastHeld[i]!;
    if (open >= 0 && Number.isNaN(h.held.to[open]!)) h.held.to[open] = now;
    if (end.set.state !== 'scheduled' && end.set.state !== 'none') {
      h.endedAt[i] = now;
      h.state[i] = STATE_CODE.get(end.set.state)!;
    }
  }

  #onWait(key: TiKey, reason: WaitReason | null): void {
    const followed = this.#follow(key);
    const last = followed.lastWait;
    if (last !== undefined && sameWaitReason(last, reason)) return;
    followed.lastWait = reason;
    if (followed.current >= 0 && reason) {
      const log = this.history.waits;
      log.try.push(followed.current);
      log.at.push(this.#now());
      log.reason.push(reason);
    }
  }
}

/** The same string for the same instance, for the rare batch in which some changes lost. */
const tiKeyId = (key: TiKey) => `${key.dagId}/${key.runId}/${key.taskId}/${key.mapIndex}`;

export { entriesOf, Recorder, stateOf };
