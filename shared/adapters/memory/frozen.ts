/**
 * How the memory store keeps its records apart from its callers' objects without copying on every
 * read (copies of every record read made the simulator 2× slower): records are stored deep-frozen
 * and replaced, never changed in place, so a read hands out the stored record itself. A caller that
 * tries to change one gets a TypeError instead of silently changing the store.
 *
 * Writes take ownership of what they are given by copying it — never by freezing the caller's
 * objects, which the caller may still change, as it could with a DynamoDB store. Only nested
 * objects that are not frozen yet are copied: the parts of a stored record that a write carries
 * over are shared as they are, so a write costs about one shallow copy.
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
 * A copy of caller data the store can own. Plain objects and arrays are copied by hand (several
 * times faster than structuredClone on the small values records carry); objects already frozen are
 * taken as immutable and shared; anything else goes through structuredClone.
 */
function clonePlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) return value.map(clonePlain);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = clonePlain(inner);
  return out;
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
      record[key] = deepFreeze(clonePlain(inner));
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
      fresh[key] = deepFreeze(clonePlain(inner));
    }
  }
  return Object.freeze(fresh) as T;
}

export { deepFreeze, own, ownPatch };
