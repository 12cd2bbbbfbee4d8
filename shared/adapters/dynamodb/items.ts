/**
 * Reading and writing items: every item carries its type and schema version, records are stored as
 * JSON in `data`, and an item this code does not understand is an error naming its key — never
 * silently overwritten.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { UnknownItemError } from '#core/errors.ts';
import { ITEM_VERSION } from './keys.ts';

export type Item = Record<string, AttributeValue>;
export type Key = { pk: string; sk: string };

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

function keyOf(key: Key): Item {
  return { pk: S(key.pk), sk: S(key.sk) };
}

/** A whole item: key, type, version, the record as JSON, and extra attributes (null ones left out). */
function itemOf(
  key: Key,
  type: string,
  data: unknown,
  extra: Record<string, string | number | null> = {},
): Item {
  const item: Item = { ...keyOf(key), type: S(type), v: N(ITEM_VERSION), data: S(JSON.stringify(data)) };
  for (const [name, value] of Object.entries(extra)) {
    if (value === null) continue;
    item[name] = typeof value === 'number' ? N(value) : S(value);
  }
  return item;
}

/** The record inside an item, after checking that this code understands it. */
function recordOf<T>(item: Item, type: string): T {
  const key = `${item.pk?.S}/${item.sk?.S}`;
  if (item.v?.N !== String(ITEM_VERSION) || item.type?.S !== type || item.data?.S === undefined) {
    throw new UnknownItemError(
      `item ${key} has type ${item.type?.S ?? '?'} version ${item.v?.N ?? '?'}: this Updraft reads ${type} version ${ITEM_VERSION} (was it written by a newer version?)`,
    );
  }
  return JSON.parse(item.data.S) as T;
}

class Items {
  constructor(
    readonly client: DynamoDBClient,
    readonly table: string,
  ) {}

  async get(key: Key): Promise<Item | null> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true }),
    );
    return out.Item ?? null;
  }

  /** A conditional put; false when the condition did not hold. */
  async put(
    item: Item,
    condition?: { expression: string; names?: Record<string, string>; values?: Item },
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: condition?.expression,
          ExpressionAttributeNames: condition?.names,
          ExpressionAttributeValues: condition?.values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** One page of a query; the cursor is the encoded LastEvaluatedKey. */
  async query(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>, cursor?: string | null) {
    const out = await this.client.send(
      new QueryCommand({
        ...input,
        TableName: this.table,
        ExclusiveStartKey: cursor
          ? (JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Item)
          : undefined,
      }),
    );
    const next = out.LastEvaluatedKey
      ? Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url')
      : null;
    return { items: out.Items ?? [], next };
  }

  /** Every item of a query, page after page. */
  async queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Item[]> {
    const out: Item[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Item[]; next: string | null } = await this.query(input, cursor);
      out.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return out;
  }
}

export { Items, itemOf, keyOf, N, recordOf, S };
