/** Stable content hashes: the same value hashes the same whatever the key order of its objects. */
import { createHash } from 'node:crypto';

/**
 * JSON with every object's keys sorted; otherwise what `JSON.stringify` gives (undefined and
 * function members are left out of objects and become null in arrays, `toJSON` is honoured,
 * non-finite numbers become null). Returns undefined for a value JSON cannot hold at all.
 */
function stableStringify(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('stableStringify: a bigint has no JSON form');
    case 'object':
      if (value === null) return 'null';
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
        return stableStringify((value as { toJSON: () => unknown }).toJSON());
      return Array.isArray(value) ? arrayJson(value) : objectJson(value as Record<string, unknown>);
    default:
      return undefined;
  }
}

function arrayJson(items: readonly unknown[]): string {
  // Id lists (upstream, downstream, tags) are the bulk of a manifest: let the engine write them.
  if (items.every((item) => typeof item === 'string')) return JSON.stringify(items);
  let out = '[';
  for (let i = 0; i < items.length; i += 1) {
    if (i > 0) out += ',';
    out += stableStringify(items[i]) ?? 'null';
  }
  return `${out}]`;
}

function objectJson(record: Record<string, unknown>): string {
  const { sorted, prefixes } = shapeOf(Object.keys(record));
  let out = '';
  for (let i = 0; i < sorted.length; i += 1) {
    const json = stableStringify(record[sorted[i]!]);
    if (json === undefined) continue;
    out += `${out === '' ? '' : ','}${prefixes[i]}${json}`;
  }
  return `{${out}}`;
}

/** An object's keys sorted, each with its JSON prefix (`"key":`). */
interface Shape {
  keys: readonly string[];
  sorted: readonly string[];
  prefixes: readonly string[];
}

/**
 * Manifests hold thousands of objects with the same keys in the same order (one per task), so
 * the sorted order of a key list is remembered: a pure cache, bounded per key count.
 */
const shapes = new Map<number, Shape[]>();
const SHAPES_PER_LENGTH = 16;

function shapeOf(keys: string[]): Shape {
  const known = shapes.get(keys.length) ?? [];
  search: for (const shape of known) {
    for (let i = 0; i < keys.length; i += 1) if (shape.keys[i] !== keys[i]) continue search;
    return shape;
  }
  const sorted = [...keys].sort();
  const shape = { keys, sorted, prefixes: sorted.map((key) => `${JSON.stringify(key)}:`) };
  if (known.length < SHAPES_PER_LENGTH) shapes.set(keys.length, [...known, shape]);
  return shape;
}

/** First 16 hex characters of the SHA-256 of the stable JSON form. */
function contentHash(value: unknown): string {
  return createHash('sha256')
    .update(stableStringify(value) ?? 'undefined')
    .digest('hex')
    .slice(0, 16);
}

export { contentHash, stableStringify };
