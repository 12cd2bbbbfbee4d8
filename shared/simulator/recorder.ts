/**
 * Watches a state store from the outside and keeps the history the report needs: every try of every
 * task instance with its state changes, claim order and wait reasons over time. It wraps the store
 * (a Proxy around the port) so the services under simulation run unchanged.
 */
import { type TaskInstance, type TiKey, tiKeyString, type WaitReason } from '#core/model.ts';
import type { TiState } from '#core/states.ts';
import { sameWaitReason } from '#core/wait-reasons.ts';
import type { ClaimRequest, ClaimResult, StateStore, TiChange, TryEnd } from '#ports';

export interface TryRecord {
  key: TiKey;
  tryNumber: number;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  claimOrder: number | null;
  scheduledAt: number | null;
  queuedAt: number | null;
  startedAt: number | null;
  endedAt: number | null;
  state: TiState | null;
  transitions: { at: number; state: TiState }[];
  waits: { at: number; reason: WaitReason }[];
  /** Intervals during which this try held slots (queued or running); a requeue ends one and a claim starts another. */
  held: { from: number; to: number | null }[];
}

/** What the recorder follows of one task instance: its current try and the last wait reason it was given. */
interface Followed {
  current: TryRecord | null;
  /** undefined until a reason is first set. */
  lastWait: WaitReason | null | undefined;
}

class Recorder {
  readonly tries: TryRecord[] = [];
  /** By `tiKeyString`: one map, so each recorded call costs one lookup. */
  readonly #followed = new Map<string, Followed>();
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
  wrap(store: StateStore): StateStore {
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
        const applied = new Set(result.applied.map(tiKeyString));
        for (const change of changes)
          if (applied.has(tiKeyString(change.key))) await this.#onChange(store, change);
        return result;
      },
      claim: async (requests: ClaimRequest[]) => {
        const result: ClaimResult = await store.claim(requests);
        for (const key of result.claimed) this.#onClaim(key);
        return result;
      },
      startTry: async (key: TiKey, tryNumber: number, opts: { now: number; workerId: string }) => {
        const ok = await store.startTry(key, tryNumber, opts);
        if (ok) this.#transition(key, 'running', (t) => (t.startedAt ??= this.#now()));
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

  async #onChange(store: StateStore, change: TiChange): Promise<void> {
    const state = change.set.state;
    if (!state) return;
    const tryNumber = change.set.tryNumber ?? change.expect.tryNumber;
    const id = tiKeyString(change.key);
    let record = this.#followed.get(id)?.current;
    if (!record || record.tryNumber !== tryNumber || state === 'none') {
      const ti = await store.getTi(change.key);
      if (!ti) return;
      record = this.#open(ti, tryNumber);
    }
    if (state === 'scheduled') record.scheduledAt ??= this.#now();
    this.#push(record, state);
    if (state !== 'scheduled' && state !== 'none') {
      record.endedAt ??= this.#now();
      record.state = state;
    }
  }

  #open(ti: TaskInstance, tryNumber: number): TryRecord {
    const record: TryRecord = {
      key: { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex },
      tryNumber,
      pool: ti.pool,
      poolSlots: ti.poolSlots,
      priorityWeight: ti.priorityWeight,
      claimOrder: null,
      scheduledAt: null,
      queuedAt: null,
      startedAt: null,
      endedAt: null,
      state: null,
      transitions: [],
      waits: [],
      held: [],
    };
    this.#follow(tiKeyString(ti)).current = record;
    this.tries.push(record);
    return record;
  }

  #follow(id: string): Followed {
    let followed = this.#followed.get(id);
    if (!followed) {
      followed = { current: null, lastWait: undefined };
      this.#followed.set(id, followed);
    }
    return followed;
  }

  #push(record: TryRecord, state: TiState): void {
    record.transitions.push({ at: this.#now(), state });
  }

  #transition(key: TiKey, state: TiState, also?: (t: TryRecord) => void): TryRecord | null {
    const record = this.#followed.get(tiKeyString(key))?.current;
    if (!record) return null;
    this.#push(record, state);
    also?.(record);
    return record;
  }

  #onClaim(key: TiKey): void {
    this.#claims += 1;
    const now = this.#now();
    this.#transition(key, 'queued', (t) => {
      t.claimOrder ??= this.#claims;
      t.queuedAt ??= now;
      t.held.push({ from: now, to: null });
    });
  }

  #onEnd(end: TryEnd): void {
    const now = this.#now();
    const record = this.#transition(end.key, end.set.state);
    if (!record) return;
    const open = record.held.at(-1);
    if (open && open.to === null) open.to = now;
    if (end.set.state !== 'scheduled' && end.set.state !== 'none') {
      record.endedAt = now;
      record.state = end.set.state;
    }
  }

  #onWait(key: TiKey, reason: WaitReason | null): void {
    const followed = this.#follow(tiKeyString(key));
    const last = followed.lastWait;
    if (last !== undefined && sameWaitReason(last, reason)) return;
    followed.lastWait = reason;
    const record = followed.current;
    if (record && reason) record.waits.push({ at: this.#now(), reason });
  }
}

export { Recorder };
