/**
 * Keyset pages over a list a service already holds (pools, the instances of one run, import errors,
 * versions), so every list the API serves pages the same way as the store's own lists: a cursor is
 * the sort key of the last item handed out and the next page starts after it, so items that come
 * and go between two pages never make the walk skip or repeat the others.
 */
import { InputError } from '#core/errors.ts';
import type { Page, PageRequest } from '#ports';

/** A total order key: components compare in turn, numbers numerically, strings by code unit. */
type SortKey = readonly (string | number)[];

/** Page size when a request names none, and the largest a request may ask for. */
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const [x, y] = [a[i]!, b[i]!];
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

/** One page of `items` (any order) after the request's cursor, in ascending `keyOf` order. */
function pageOf<T>(items: Iterable<T>, request: PageRequest, keyOf: (item: T) => SortKey): Page<T> {
  const keyed = Array.from(items, (item) => ({ item, key: keyOf(item) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  const after = request.cursor ? decodeCursor(request.cursor) : null;
  const start = after ? keyed.findIndex((k) => compareKeys(k.key, after) > 0) : 0;
  const from = start < 0 ? keyed.length : start;
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, request.limit ?? DEFAULT_PAGE_SIZE));
  const taken = keyed.slice(from, from + limit);
  const last = taken.at(-1);
  const more = from + limit < keyed.length;
  return { items: taken.map((k) => k.item), next: more && last ? encodeCursor(last.key) : null };
}

/**
 * Filters a store's paged list without losing the paging: reads store pages until `limit` items
 * passed `keep` or the store has no more. The cursor handed back is the store's, so it resumes right
 * after the last page read (an item that passed on a page only partly used is never skipped: pages
 * are read whole and at most `limit` store items at a time).
 */
async function filteredPage<T>(
  read: (request: PageRequest) => Promise<Page<T>>,
  request: PageRequest,
  keep: (item: T) => boolean,
): Promise<Page<T>> {
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, request.limit ?? DEFAULT_PAGE_SIZE));
  const items: T[] = [];
  let cursor = request.cursor ?? null;
  do {
    const page = await read({ cursor, limit: limit - items.length });
    items.push(...page.items.filter(keep));
    cursor = page.next;
  } while (cursor && items.length < limit);
  return { items, next: cursor };
}

export type { SortKey };
export { DEFAULT_PAGE_SIZE, filteredPage, MAX_PAGE_SIZE, pageOf };
