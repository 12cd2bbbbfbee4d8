/**
 * A small typed marshaller (the project has no @aws-sdk/util-dynamodb): every item carries its
 * entity type and schema version `v`, the record as JSON in `data`, and beside it the attributes
 * that keys, indexes and conditions need. An item this code does not understand is an error naming
 * its key, never silently read or overwritten.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { InputError, UnknownItemError } from '#core/errors.ts';

export type Item = Record<string, AttributeValue>;
export interface Key {
  pk: string;
  sk: string;
}

/** What a caller is told of a cursor this store did not hand out (memory paging says the same). */
const BAD_CURSOR = 'is not a cursor this list handed out';

/** Schema version of every item this code writes. */
const ITEM_VERSION = 1;

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

function keyOf(key: Key): Item {
  return { pk: S(key.pk), sk: S(key.sk) };
}

function keyString(item: Item): string {
  return `${item.pk?.S ?? '?'} / ${item.sk?.S ?? '?'}`;
}

/** Attribute values beside the record; null and undefined ones are left out (a sparse index key is removed). */
function attributes(extra: Record<string, string | number | null | undefined>): Item {
  const item: Item = {};
  for (const [name, value] of Object.entries(extra)) {
    if (value === null || value === undefined) continue;
    item[name] = typeof value === 'number' ? N(value) : S(value);
  }
  return item;
}

/** A whole item: key, type, version, the record as JSON, and extra attributes (null ones left out). */
function itemOf(
  key: Key,
  type: string,
  data: unknown,
  extra: Record<string, string | number | null | undefined> = {},
): Item {
  return {
    ...keyOf(key),
    type: S(type),
    v: N(ITEM_VERSION),
    data: S(JSON.stringify(data)),
    ...attributes(extra),
  };
}

/** Throws UnknownItemError unless the item is of `type` (when given) and this schema version. */
function checkItem(item: Item, type?: string): void {
  if (item.v?.N !== String(ITEM_VERSION) || (type !== undefined && item.type?.S !== type)) {
    throw new UnknownItemError(
      `item ${keyString(item)} has type ${item.type?.S ?? '?'} version ${item.v?.N ?? '?'}: this Updraft ` +
        `reads ${type ?? 'any type'} version ${ITEM_VERSION} (was it written by a newer version?)`,
    );
  }
}

/** The record inside an item, after checking that this code understands it. */
function recordOf<T>(item: Item, type: string): T {
  checkItem(item, type);
  if (item.data?.S === undefined) {
    throw new UnknownItemError(`item ${keyString(item)} of type ${type} has no data`);
  }
  return JSON.parse(item.data.S) as T;
}

const num = (value: AttributeValue | undefined): number | null =>
  value?.N === undefined ? null : Number(value.N);
const str = (value: AttributeValue | undefined): string | null => value?.S ?? null;
const json = <T>(value: AttributeValue | undefined, fallback: T): T =>
  value?.S === undefined ? fallback : (JSON.parse(value.S) as T);

/** Paging cursors are the encoded LastEvaluatedKey: opaque to callers, exact for DynamoDB. */
function encodeCursor(key: Item | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;
}

/** A cursor this store handed out (a LastEvaluatedKey), or an InputError naming `cursor`. */
function decodeCursor(cursor: string | null | undefined): Item | undefined {
  if (!cursor) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    key = null;
  }
  const isAttribute = (v: unknown) => typeof v === 'object' && v !== null && Object.keys(v).length === 1;
  if (
    typeof key !== 'object' ||
    key === null ||
    Array.isArray(key) ||
    !Object.values(key).every(isAttribute)
  ) {
    throw new InputError('cursor', BAD_CURSOR);
  }
  return key as Item;
}

export {
  attributes,
  BAD_CURSOR,
  checkItem,
  decodeCursor,
  encodeCursor,
  ITEM_VERSION,
  itemOf,
  json,
  keyOf,
  keyString,
  N,
  num,
  recordOf,
  S,
  str,
};
