/**
 * Reading and writing single items, with the SDK's errors translated: a failed condition is `false`
 * (losing a race is normal), an item of an unknown schema version is an `UnknownItemError`, and no
 * write ever replaces such an item (every put and update carries `knownVersion`).
 */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { InputError } from '#core/errors.ts';
import { absentOrKnown, both, expression, knownVersion } from './conditions.ts';
import {
  BAD_CURSOR,
  checkItem,
  decodeCursor,
  encodeCursor,
  ITEM_VERSION,
  type Item,
  type Key,
  keyOf,
  N,
} from './marshal.ts';

export interface Condition {
  condition?: string;
  values?: Item;
}

export type QueryInput = Omit<
  QueryCommandInput,
  'TableName' | 'ExclusiveStartKey' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
>;

/** A failed condition whose old item (ALL_OLD) is of an unknown version is an error, not a lost race. */
function lostOrUnknown(error: unknown): false {
  if (!(error instanceof ConditionalCheckFailedException)) throw error;
  if (error.Item) checkItem(error.Item);
  return false;
}

class Items {
  constructor(
    readonly client: DynamoDBClient,
    readonly table: string,
  ) {}

  /** One item, strongly consistent unless told. */
  async get(key: Key, consistent = true): Promise<Item | null> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: consistent }),
    );
    return out.Item ?? null;
  }

  /** Reads of many keys, strongly consistent unless told (missing ones are absent from the result), any order. */
  async getMany(keys: Key[], consistent = true): Promise<Item[]> {
    const unique = [...new Map(keys.map((k) => [`${k.pk}\u0000${k.sk}`, k])).values()];
    const out: Item[] = [];
    for (let i = 0; i < unique.length; i += 100) {
      let request: Record<string, { Keys: Item[]; ConsistentRead: boolean }> | undefined = {
        [this.table]: { Keys: unique.slice(i, i + 100).map(keyOf), ConsistentRead: consistent },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt += 1) {
        if (attempt > 0)
          await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** Math.min(attempt, 6)));
        const page = await this.client.send(new BatchGetItemCommand({ RequestItems: request }));
        out.push(...(page.Responses?.[this.table] ?? []));
        request = page.UnprocessedKeys as typeof request;
      }
    }
    return out;
  }

  /** A put that may create the item or replace one of this version, under an extra condition; false if lost. */
  async put(item: Item, extra: Condition = {}): Promise<boolean> {
    const condition = extra.condition ? both(absentOrKnown, extra.condition) : absentOrKnown;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...expression({ condition }, { ':v': N(ITEM_VERSION), ...extra.values }),
        }),
      );
      return true;
    } catch (error) {
      return lostOrUnknown(error);
    }
  }

  /**
   * An update of an existing item of this version (`upsert`: or a new one) under an extra
   * condition; false if the condition did not hold.
   */
  async update(key: Key, update: string, extra: Condition & { upsert?: boolean } = {}): Promise<boolean> {
    const guard = extra.upsert ? absentOrKnown : knownVersion;
    const condition = extra.condition ? both(guard, extra.condition) : guard;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyOf(key),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...expression({ update, condition }, { ':v': N(ITEM_VERSION), ...extra.values }),
        }),
      );
      return true;
    } catch (error) {
      return lostOrUnknown(error);
    }
  }

  /** `update`, returning the item as the update left it (ALL_NEW), or null if the condition did not hold. */
  async updateReturning(key: Key, update: string, extra: Condition = {}): Promise<Item | null> {
    const condition = extra.condition ? both(knownVersion, extra.condition) : knownVersion;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyOf(key),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...expression({ update, condition }, { ':v': N(ITEM_VERSION), ...extra.values }),
        }),
      );
      return out.Attributes ?? null;
    } catch (error) {
      return lostOrUnknown(error) || null;
    }
  }

  /** Deletes an item of this version under an extra condition; false if absent or lost. */
  async delete(key: Key, extra: Condition = {}): Promise<boolean> {
    const condition = extra.condition ? both(knownVersion, extra.condition) : knownVersion;
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: keyOf(key),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...expression({ condition }, { ':v': N(ITEM_VERSION), ...extra.values }),
        }),
      );
      return true;
    } catch (error) {
      return lostOrUnknown(error);
    }
  }

  /** One page of a query; the cursor is the encoded LastEvaluatedKey. */
  async query(
    input: QueryInput & { KeyConditionExpression: string; FilterExpression?: string },
    values: Item,
    cursor?: string | null,
  ): Promise<{ items: Item[]; next: string | null }> {
    const { KeyConditionExpression, FilterExpression, ...rest } = input;
    // A query's filter is built like a condition but sent as FilterExpression.
    const { ConditionExpression: _, ...parts } = expression(
      { keyCondition: KeyConditionExpression, condition: FilterExpression },
      values,
    );
    const command = new QueryCommand({
      ...rest,
      ...parts,
      ...(FilterExpression && { FilterExpression }),
      TableName: this.table,
      ExclusiveStartKey: decodeCursor(cursor),
    });
    const out = await this.client.send(command).catch((err: unknown) => {
      // A well-formed cursor of another list (another index or partition) is refused by DynamoDB.
      if (cursor && err instanceof Error && err.name === 'ValidationException') {
        throw new InputError('cursor', BAD_CURSOR, { cause: err });
      }
      throw err;
    });
    return { items: out.Items ?? [], next: encodeCursor(out.LastEvaluatedKey) };
  }

  /** Every item of a query, page after page (only for partitions known to be small). */
  async queryAll(input: QueryInput & { KeyConditionExpression: string }, values: Item): Promise<Item[]> {
    const out: Item[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Item[]; next: string | null } = await this.query(input, values, cursor);
      out.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return out;
  }
}

export { Items, lostOrUnknown };
