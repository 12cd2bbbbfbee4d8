/**
 * The pools of the construct's props, applied at deployment: the onEvent handler of a custom
 * resource (CDK's provider framework calls it and answers CloudFormation). A pool is created when
 * absent; a pool whose slots the props changed since the last deployment is resized; any other
 * pool keeps what operators set in the console or the API. Nothing is deleted: a pool dropped from
 * the props stays until an operator deletes it (its slots may be held).
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createSqsClient } from '#adapters/aws-clients.ts';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { SqsSchedulerEvents } from '#adapters/sqs/sqs-publishers.ts';
import { InputError } from '#core/errors.ts';
import type { Logger } from '#ports';
import { ManifestCache, type ServiceDeps } from '#services/deps.ts';
import { createPool, updatePool } from '#services/pools.ts';
import { counterShards, type Env, required, settings } from '../../functions/common/env.ts';
import { ENV } from '../../shared/resources.ts';

/** Pool name → slots, as the construct's props give them (-1 = unlimited). */
export type Pools = Record<string, number>;

/** The custom resource's properties: CloudFormation hands every scalar over as a string. */
function poolsOf(raw: unknown): Pools {
  const out: Pools = {};
  for (const [name, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    const slots = Number(value);
    if (!Number.isInteger(slots)) throw new InputError(`pools.${name}`, 'must be a whole number of slots');
    out[name] = slots;
  }
  return out;
}

export interface PoolChanges {
  created: string[];
  resized: string[];
  kept: string[];
}

/** Creates the absent pools and resizes those whose slots changed from `previous` (the last deployment's props). */
async function applyPools(deps: ServiceDeps, desired: Pools, previous: Pools): Promise<PoolChanges> {
  const changes: PoolChanges = { created: [], resized: [], kept: [] };
  for (const [name, slots] of Object.entries(desired)) {
    const existing = await deps.store.getPool(name);
    if (!existing) {
      await createPool(deps, { name, slots, description: 'Created by the Updraft construct' });
      changes.created.push(name);
    } else if (previous[name] !== slots && existing.slots !== slots) {
      await updatePool(deps, { name, slots });
      changes.resized.push(name);
    } else {
      changes.kept.push(name);
    }
  }
  return changes;
}

const refuse = (what: string) => async () => {
  throw new Error(`the pools handler does not ${what}`);
};

function poolDeps(env: Env, logger: Logger): ServiceDeps {
  const region = env.AWS_REGION ?? 'us-east-1';
  const store = new DynamoDbStateStore(new DynamoDBClient({ region }), required(env, ENV.tableName), {
    counterShards: counterShards(env),
  });
  return {
    store,
    events: new SqsSchedulerEvents(createSqsClient({ region }), required(env, ENV.schedulerEventsQueueUrl)),
    dispatcher: { dispatch: refuse('dispatch tries') },
    schedules: { setNextWakeUp: refuse('move schedules') },
    settings: settings(env),
    logger,
    manifests: new ManifestCache(store),
  };
}

function powertools(): Logger {
  const logger = new PowertoolsLogger({ serviceName: 'updraft-pools' });
  return {
    debug: (m, e) => logger.debug(m, e ?? {}),
    info: (m, e) => logger.info(m, e ?? {}),
    warn: (m, e) => logger.warn(m, e ?? {}),
    error: (m, e) => logger.error(m, e ?? {}),
  };
}

/** The physical id never changes: one set of pools per deployment, updated in place. */
const PHYSICAL_ID = 'updraft-pools';

async function handler(event: CloudFormationCustomResourceEvent) {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: PHYSICAL_ID };
  const logger = powertools();
  const previous = event.RequestType === 'Update' ? poolsOf(event.OldResourceProperties.Pools) : {};
  const changes = await applyPools(
    poolDeps(process.env, logger),
    poolsOf(event.ResourceProperties.Pools),
    previous,
  );
  logger.info('pools applied', { ...changes });
  return {
    PhysicalResourceId: PHYSICAL_ID,
    Data: { Created: changes.created.join(','), Resized: changes.resized.join(',') },
  };
}

export { applyPools, handler, poolsOf };
