/** Shared by the DynamoDB integration tests: scheduled instances, claim requests, and a client that counts calls. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import type { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import type { CounterKey, Hold, TaskInstance } from '#core/model.ts';
import type { ClaimRequest } from '#ports';
import { run, T0, ti } from '../../support/factories.ts';

const GLOBAL: CounterKey = { kind: 'global' };
const pool = (name: string): CounterKey => ({ kind: 'pool', pool: name });

/** `n` scheduled instances of one run (`t000`, `t001`, …), created in one call. */
async function scheduledTis(
  store: DynamoDbStateStore,
  n: number,
  overrides: (i: number) => Partial<TaskInstance> = () => ({}),
  runId = 'manual__r1',
  dagId = 'etl',
): Promise<TaskInstance[]> {
  const tis = Array.from({ length: n }, (_, i) =>
    ti({ dagId, runId, taskId: `t${String(i).padStart(3, '0')}`, ...overrides(i) }),
  );
  await store.createRun(run({ dagId, runId }), tis);
  return tis;
}

function claimOf(
  t: TaskInstance,
  holds: (Hold & { limit: number })[] = [{ counter: GLOBAL, amount: 1, limit: 32 }],
) {
  return { key: t, tryNumber: t.tryNumber, queuedAt: T0 + 1, holds } satisfies ClaimRequest;
}

async function usedOf(store: DynamoDbStateStore, counter: CounterKey): Promise<number> {
  return (await store.readCounters([counter]))[0]!.used;
}

/** A DynamoDB Local client that counts the commands it sends, by name. */
class CountingClient extends DynamoDBClient {
  readonly calls = new Map<string, number>();

  constructor(config: DynamoDBClientConfig = {}) {
    super({
      endpoint: inject('ddbEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      ...config,
    });
  }

  count(name: string): number {
    return this.calls.get(name) ?? 0;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the SDK's send is heavily overloaded; this wraps every form.
  override send(command: any, ...rest: any[]): Promise<any> {
    const name = command.constructor.name.replace(/Command$/, '');
    this.calls.set(name, this.count(name) + 1);
    return super.send(command, ...rest);
  }
}

export { CountingClient, claimOf, GLOBAL, pool, scheduledTis, usedOf };
