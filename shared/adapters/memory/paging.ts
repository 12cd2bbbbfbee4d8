/**
 * Keyset paging for the memory store's lists, as DynamoDB pages with LastEvaluatedKey: a cursor is
 * the sort key of the last item handed out, and the next page starts after it. Items that leave or
 * arrive between two pages therefore never make the walk skip or repeat the others (an offset would:
 * a run finishing on page one shifts every later run back by one).
 */
import { InputError } from '#core/errors.ts';
import type { Page, PageRequest } from '#ports';

/** A total order key: components compare in turn, numbers numerically, strings by code unit. */
type SortKey = readonly (string | number)[];

function compareKeys(a: SortKey, b: SortKey): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): SortKey {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(key) && key.every((k) => typeof k === 'string' || typeof k === 'number')) return key;
  } catch {
    // Falls through to the error below.
  }
  throw new InputError('cursor', 'is not a cursor this list handed out');
}

interface KeysetOptions<T> {
  /** The item's unique sort key; pages run in ascending key order unless `descending`. */
  keyOf: (item: T) => SortKey;
  descending?: boolean;
  /** Page size when the request names none. */
  defaultLimit: number;
}

/** One page of `items` (in any order) after the request's cursor. */
function keysetPage<T>(items: Iterable<T>, request: PageRequest, options: KeysetOptions<T>): Page<T> {
  const sign = options.descending ? -1 : 1;
  const keyed = Array.from(items, (item) => ({ item, key: options.keyOf(item) }));
  keyed.sort((a, b) => sign * compareKeys(a.key, b.key));
  let start = 0;
  if (request.cursor) {
    const after = decodeCursor(request.cursor);
    let hi = keyed.length;
    while (start < hi) {
      const mid = (start + hi) >>> 1;
      if (sign * compareKeys(keyed[mid]!.key, after) <= 0) start = mid + 1;
      else hi = mid;
    }
  }
  const limit = Math.max(1, request.limit ?? options.defaultLimit);
  const taken = keyed.slice(start, start + limit);
  const last = taken.at(-1);
  const more = start + limit < keyed.length;
  return { items: taken.map((k) => k.item), next: more && last ? encodeCursor(last.key) : null };
}

export type { SortKey };
export { keysetPage };
