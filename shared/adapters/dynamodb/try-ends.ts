/**
 * Group commit of try ends. A worker runs a batch of deliveries at once, so short tries end at
 * nearly the same moment, and each end lowers the same global, pool and DAG counters (2 units
 * each, inside a transaction). Ends that arrive while a group is in flight, or in the same tick,
 * are committed together in one TransactWriteItems, with one lowering per counter item:
 *
 *   one group (≤ 100 actions, at most one end per instance):
 *     TI 1        state/try as read → new state, holds cleared      if #state = :expectedState AND #tryNumber = :expectedTry
 *     TI 2        …                                                 (each end keeps its own condition)
 *     counter A   ADD −(Σ of every member's A)                      if #used >= that sum  (= each member's lowering in turn)
 *
 * Each caller gets what `endTry` alone gives it (tries.ts):
 * - committed: true, at once; the parked work the group's releases make room for is let back after
 *   (parking.ts), and the store's claim listings wait for that (`settled`);
 * - prepared from the image the store's start kept, and the instance changed since: prepared again
 *   from a read, and committed in a later group;
 * - its instance's condition failed (a duplicate delivery, a stale try): false; the others are
 *   committed again without it, under a new request token;
 * - a counter's condition failed with every instance as read: each member is committed alone, so
 *   the one that releases a slot twice gets that error and the others are not held back;
 * - conflicts and throttling: the same actions again under the same token (a time-out after commit
 *   is not applied twice), up to MAX_ATTEMPTS, then every member gets the error;
 * - any other error of the request: every member gets it (the worker retries its delivery as today).
 * Nothing is ever partly applied: a group is one transaction.
 */
import type { CounterKey } from '#core/model.ts';
import { counterKeyString, tiKeyString } from '#core/model.ts';
import type { HoldPart } from '#core/reconcile.ts';
import type { SharedWorkObserver } from '#core/shared-work.ts';
import type { Logger, TryEnd } from '#ports';
import type { Items } from './items.ts';
import type { Item } from './marshal.ts';
import { unparkAfterRelease } from './parking.ts';
import { backoff, MAX_ACTIONS, MAX_ATTEMPTS, newToken, transact, withOldItems } from './transact.ts';
import { doubleRelease, lowerAction, type PreparedEnd, prepareEnd } from './tries.ts';

/** A transaction may carry 4 MB; the instances' puts stay well under it. */
const MAX_GROUP_BYTES = 2_000_000;

interface Member {
  /** The end as asked for: prepared again from a read when the image it was prepared from was stale. */
  input: TryEnd;
  end: PreparedEnd;
  id: string;
  bytes: number;
  resolve: (ended: boolean) => void;
  reject: (error: unknown) => void;
  /** Who waits for it, for the observer of shared work (`SharedWorkObserver.join`). */
  caller: unknown;
}

const shardId = (c: { counter: CounterKey; shard?: number }) =>
  `${counterKeyString(c.counter)}#${c.shard ?? 0}`;

/** Every member's holds summed per counter shard: one lowering each. */
function merged(members: Member[]): HoldPart[] {
  const out = new Map<string, HoldPart>();
  for (const m of members) {
    for (const part of m.end.counters) {
      const id = shardId(part);
      const entry = out.get(id) ?? { ...part, amount: 0 };
      entry.amount += part.amount;
      out.set(id, entry);
    }
  }
  return [...out.values()];
}

/** What the groups committed: transactions, and the ends in them (ends − transactions = counter lowerings saved, ×counters). */
export interface TryEndGroupStats {
  transactions: number;
  ends: number;
}

class TryEndGroups {
  readonly stats: TryEndGroupStats = { transactions: 0, ends: 0 };
  readonly #queue: Member[] = [];
  #draining = false;

  /** Work parked on the counters committed ends lowered, being let back (#letBack), with who waits for it (`settled`). */
  readonly #lettingBack = new Map<Promise<void>, unknown[]>();

  constructor(
    readonly items: Items,
    readonly now: () => number,
    readonly max: number,
    readonly logger?: Pick<Logger, 'warn'>,
    /** Sees each group's transaction as done for every end in it, and a let-back for whoever waits on it. */
    readonly shared?: SharedWorkObserver,
  ) {}

  /** `image`: the instance as this store's start left it (StartedTries), so the end needs no read. */
  async end(end: TryEnd, image: Item | null = null): Promise<boolean> {
    const prepared = await prepareEnd(this.items, end, image);
    if (!prepared) return false;
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({
        input: end,
        end: prepared,
        id: tiKeyString(prepared.ti),
        bytes: JSON.stringify(prepared.put).length,
        resolve,
        reject,
        caller: this.shared?.join(),
      });
      if (!this.#draining) {
        this.#draining = true;
        // The ends of this tick join the first group; later ones, the next group after it.
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const group = this.#take();
        try {
          const { committed, now } = await (this.shared
            ? this.shared.run(
                group.map((m) => m.caller),
                () => this.#commit(group),
              )
            : this.#commit(group));
          // Letting parked work back does not hold up the next group.
          if (committed.length > 0) this.#letBack(committed, now);
        } catch (error) {
          // Not a request's outcome (those settle inside #commit): no caller is left waiting for ever.
          for (const m of group) m.reject(error);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** The queue's first ends that fit one transaction, one per instance; the rest wait, in order. */
  #take(): Member[] {
    const group: Member[] = [];
    const ids = new Set<string>();
    const shards = new Set<string>();
    let bytes = 0;
    for (let i = 0; i < this.#queue.length && group.length < this.max; ) {
      const m = this.#queue[i]!;
      const added = m.end.counters.map(shardId).filter((s) => !shards.has(s));
      const fits =
        group.length === 0 ||
        (!ids.has(m.id) &&
          group.length + 1 + shards.size + new Set(added).size <= MAX_ACTIONS &&
          bytes + m.bytes <= MAX_GROUP_BYTES);
      if (!fits) {
        i += 1;
        continue;
      }
      this.#queue.splice(i, 1);
      group.push(m);
      ids.add(m.id);
      for (const s of added) shards.add(s);
      bytes += m.bytes;
    }
    return group;
  }

  /** Commits what of the group still holds as read; settles every member that did not commit. */
  async #commit(group: Member[]): Promise<{ committed: Member[]; now: number }> {
    let members = group;
    for (;;) {
      if (members.length === 0) return { committed: [], now: 0 };
      const now = this.now();
      const counters = merged(members);
      const actions = [
        ...members.map((m) => m.end.put),
        ...counters.map((c) =>
          withOldItems(lowerAction(this.items.table, c.counter, c.shard ?? 0, c.amount, now)),
        ),
      ];
      const token = newToken();
      let retry = false;
      for (let attempt = 1; !retry; attempt += 1) {
        let outcome: Awaited<ReturnType<typeof transact>>;
        try {
          outcome = await transact(this.items.client, actions, token);
        } catch (error) {
          for (const m of members) m.reject(error);
          return { committed: [], now };
        }
        if (outcome.kind === 'committed') {
          this.stats.transactions += 1;
          this.stats.ends += members.length;
          return { committed: members, now };
        }
        if (outcome.kind === 'cancelled') {
          const { reasons } = outcome;
          const lost = new Set(members.filter((_, i) => reasons[i]?.code === 'ConditionalCheckFailed'));
          if (lost.size > 0) {
            for (const m of lost) {
              // An image is only a guess: such an end is prepared again from the instance as it is now.
              if (m.end.fromImage) this.end(m.input).then(m.resolve, m.reject);
              else m.resolve(false);
            }
            members = members.filter((m) => !lost.has(m));
            retry = true;
            continue;
          }
          if (members.length === 1) {
            const broken = counters.find((_, i) => reasons[i + 1]?.code === 'ConditionalCheckFailed');
            members[0]!.reject(doubleRelease(broken?.counter, members[0]!.end.ti));
            return { committed: [], now };
          }
          // A counter would go below zero with every instance as read: each alone names who released twice.
          const alone = await Promise.all(members.map((m) => this.#commit([m])));
          const committed = alone.flatMap((a) => a.committed);
          return { committed, now: Math.max(now, ...alone.map((a) => a.now)) };
        }
        if (attempt >= MAX_ATTEMPTS) {
          for (const m of members) m.reject(new Error(`ending the try of ${m.id}: ${outcome.why}`));
          return { committed: [], now };
        }
        await backoff(attempt);
      }
    }
  }

  /**
   * Work parked on a DAG or task counter the group's tries held comes back now that it fell
   * (parking.ts, step 4). The ends are settled first: what follows an end (its downstream pass)
   * need not wait for this read, and this store's claim listings do (`settled`), so a pass that
   * follows an end still sees the work it let back. Failing here fails no end: the try has ended,
   * and the sweep lets back what a try end missed (step 5).
   */
  #letBack(committed: Member[], now: number): void {
    for (const m of committed) m.resolve(true);
    // Nobody waits for it yet: whoever does joins it in `settled`.
    const waiting: unknown[] = [];
    const letBack = () =>
      unparkAfterRelease(
        this.items,
        committed.flatMap((m) => m.end.counters),
        now,
      );
    const done: Promise<void> = (this.shared ? this.shared.run(waiting, letBack) : letBack())
      .catch((error: unknown) =>
        this.logger?.warn('parked work not let back after a try end (the sweep will)', {
          error: String(error),
        }),
      )
      .finally(() => this.#lettingBack.delete(done));
    this.#lettingBack.set(done, waiting);
  }

  /** Resolves once the parked work of the ends committed so far has been let back. */
  async settled(): Promise<void> {
    if (this.#lettingBack.size === 0) return;
    if (this.shared) {
      const caller = this.shared.join();
      for (const waiting of this.#lettingBack.values()) waiting.push(caller);
    }
    await Promise.all([...this.#lettingBack.keys()]);
  }
}

export { TryEndGroups };
