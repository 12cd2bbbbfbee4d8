/**
 * How the memory store keeps its records apart from its callers' objects. What a write is given is
 * copied, never frozen in place (the caller may still change its objects, as it could with a
 * DynamoDB store), and every nested object the store keeps is deep-frozen, so the parts a record
 * carries over from one write to the next are shared as they are. Task instances are changed in
 * place and handed out as frozen snapshots (memory-tis.ts); runs, DAGs and the rest are stored
 * frozen and replaced by a new frozen record per write, so a read hands out the stored record
 * itself. Either way a caller that tries to change what it read gets a TypeError instead of
 * silently changing the store, and nothing it was handed changes afterwards.
 */

/** Deep-freezes plain data the store owns. Stops at objects already frozen. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    const record = value as Record<string, unknown>;
    for (const key in record) deepFreeze(record[key]);
    Object.freeze(value);
  }
  return value;
}

/**
 * A deep-frozen copy of caller data the store can own. Plain objects and arrays are copied by hand
 * (several times faster than structuredClone on the small values records carry) and each copy is
 * frozen as it is made, so it is not walked a second time; objects already frozen are taken as
 * immutable and shared; anything else goes through structuredClone.
 */
function frozenCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return deepFreeze(structuredClone(value));
  // Keys, not entries: no [key, value] array per property.
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) out[key] = frozenCopy(source[key]);
  return Object.freeze(out);
}

/**
 * Makes `fresh` — a top-level object the store just built, e.g. `{ ...stored, ...patch }` — a
 * record the store owns: copies each nested object not frozen yet (the caller's), then freezes it.
 */
function own<T extends object>(fresh: T): T {
  const record = fresh as Record<string, unknown>;
  for (const key in record) {
    const inner = record[key];
    if (inner !== null && typeof inner === 'object' && !Object.isFrozen(inner)) {
      record[key] = frozenCopy(inner);
    }
  }
  return Object.freeze(fresh);
}

/**
 * `own({ ...stored, ...patch })` for a record the store owns already: only the patch's values can
 * be the caller's, so only they are looked at (a task instance has some 30 fields; a write changes
 * a few).
 */
function ownPatch<T extends object>(stored: T, patch: Partial<NoInfer<T>>): T {
  const fresh = { ...stored, ...patch } as Record<string, unknown>;
  for (const key in patch) {
    const inner = fresh[key];
    if (inner !== null && typeof inner === 'object' && !Object.isFrozen(inner)) {
      fresh[key] = frozenCopy(inner);
    }
  }
  return Object.freeze(fresh) as T;
}

/**
 * `patch` made the store's own, for writing into a record in place: each value that is an object
 * not frozen yet (the caller's) is copied and deep-frozen; the rest are shared as they are.
 */
function ownValues<T extends object>(patch: T): T {
  // A loop, not `{ ...patch }`: the spread is slow on Node 20 for these records (ti-copy.ts).
  const source = patch as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key in source) {
    const inner = source[key];
    out[key] =
      inner !== null && typeof inner === 'object' && !Object.isFrozen(inner) ? frozenCopy(inner) : inner;
  }
  return out as T;
}

/** A copy of `value` the store can own, deep-frozen (shared as it is when frozen already). */
function ownValue<T>(value: T): T {
  return value !== null && typeof value === 'object' && !Object.isFrozen(value)
    ? (frozenCopy(value) as T)
    : value;
}

export { deepFreeze, own, ownPatch, ownValue, ownValues };
