/**
 * Counter shards (docs/state-store.md, "Hot counters"). One item takes about 1,000 writes a second
 * (≈ 500 inside transactions), so the counters every try touches — `global`, each `pool`, each
 * `executor` — can be split into `counterShards` items. A limit L splits into n = min(shards, L)
 * shares that sum to L (⌊L/n⌋, one more for the first L mod n), each shard admitting only within its
 * share, so the shards together can never admit more than L. A hold starts at the shard its
 * instance hashes to and spreads its amount over as many shards as it has slots (at most n), so a
 * task heavier than one share still fits; a shard that turns out full is left for the next shard
 * the hold has not tried. DAG and task counters are per DAG and stay whole.
 */
import { type CounterKey, counterKeyString, type TiKey, tiKeyString } from '#core/model.ts';
import type { ClaimRequest } from '#ports';

const SHARDED = new Set<CounterKey['kind']>(['global', 'pool', 'executor']);

/** How many shards a counter has under `limit` (-1 = unlimited) with the `counterShards` setting. */
function shardCount(counter: CounterKey, limit: number, setting: number): number {
  if (setting <= 1 || !SHARDED.has(counter.kind)) return 1;
  return limit === -1 ? setting : Math.max(1, Math.min(setting, limit));
}

/** Whether a counter may be sharded under the setting (readers read every shard it may have). */
function maySpread(counter: CounterKey, setting: number): boolean {
  return setting > 1 && SHARDED.has(counter.kind);
}

/** The share of shard `i` of `n` in `limit` (-1: unlimited). */
function shareOf(limit: number, n: number, i: number): number {
  if (limit === -1) return -1;
  return Math.floor(limit / n) + (i < limit % n ? 1 : 0);
}

/** FNV-1a of the instance key: the shard its holds start at. */
function hashOf(key: TiKey): number {
  let h = 0x811c9dc5;
  for (const ch of tiKeyString(key)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** One part of a hold: `amount` of it on one shard, admitted only within that shard's `share`. */
export interface Part {
  counter: CounterKey;
  shard: number;
  amount: number;
  /** The shard's share of the limit; -1 = unlimited (no room condition). */
  share: number;
  /** Whether the counter is split (the part's shard is recorded on the instance). */
  sharded: boolean;
}

const partId = (counter: CounterKey, shard: number) => `${counterKeyString(counter)}#${shard}`;

/**
 * The parts of one hold, over shards not in `tried`; null when every shard was tried (the hold
 * cannot be placed: its counter is full).
 */
function partsOf(
  hold: ClaimRequest['holds'][number],
  key: TiKey,
  setting: number,
  tried: ReadonlySet<number>,
): Part[] | null {
  const n = shardCount(hold.counter, hold.limit, setting);
  const sharded = n > 1;
  const start = sharded ? hashOf(key) % n : 0;
  const available: number[] = [];
  for (let j = 0; j < n; j += 1) {
    const shard = (start + j) % n;
    if (!tried.has(shard)) available.push(shard);
  }
  if (available.length === 0) return null;
  const part = (shard: number, amount: number): Part => ({
    counter: hold.counter,
    shard,
    amount,
    share: shareOf(hold.limit, n, shard),
    sharded,
  });
  if (hold.limit === -1 || hold.amount <= 1) return [part(available[0]!, hold.amount)];
  const k = Math.min(hold.amount, available.length);
  return available
    .slice(0, k)
    .map((shard, j) => part(shard, Math.floor(hold.amount / k) + (j < hold.amount % k ? 1 : 0)));
}

export { hashOf, maySpread, partId, partsOf, shardCount, shareOf };
