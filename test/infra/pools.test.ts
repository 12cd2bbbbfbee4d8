/**
 * The pools custom resource's handler logic (infra/pools/handler.ts) on the memory store: what a
 * deployment creates, resizes and keeps, and how it reads CloudFormation's string properties.
 */
import { describe, expect, it } from 'vitest';
import { applyPools, poolsOf } from '../../infra/pools/handler.ts';
import { makeTestDeps } from '../support/function-deps.ts';

describe('pools applied at deployment', () => {
  it('creates the pools that are absent and tells the scheduler', async () => {
    // Prepare
    const { deps, events } = makeTestDeps();
    // Act
    const changes = await applyPools(deps, { warehouse: 8, api: -1 }, {});
    // Assess
    expect(changes).toEqual({ created: ['warehouse', 'api'], resized: [], kept: [] });
    expect((await deps.store.getPool('warehouse'))?.slots).toBe(8);
    expect((await deps.store.getPool('api'))?.slots).toBe(-1);
    expect(events).toEqual(
      expect.arrayContaining([
        { type: 'pool_changed', pool: 'warehouse' },
        { type: 'pool_changed', pool: 'api' },
      ]),
    );
  });

  it('resizes a pool whose slots the props changed, default_pool included', async () => {
    const { deps } = makeTestDeps();
    await applyPools(deps, { warehouse: 8 }, {});
    const changes = await applyPools(deps, { warehouse: 4, default_pool: 16 }, { warehouse: 8 });
    expect(changes).toEqual({ created: [], resized: ['warehouse', 'default_pool'], kept: [] });
    expect((await deps.store.getPool('warehouse'))?.slots).toBe(4);
    expect((await deps.store.getPool('default_pool'))?.slots).toBe(16);
  });

  it('keeps the size an operator set when the props did not change it', async () => {
    const { deps } = makeTestDeps();
    await applyPools(deps, { warehouse: 8 }, {});
    await deps.store.putPool({ ...(await deps.store.getPool('warehouse'))!, slots: 20 });
    const changes = await applyPools(deps, { warehouse: 8 }, { warehouse: 8 });
    expect(changes).toEqual({ created: [], resized: [], kept: ['warehouse'] });
    expect((await deps.store.getPool('warehouse'))?.slots).toBe(20);
  });

  it('refuses a bad pool name through the service, naming the field, and creates nothing', async () => {
    const { deps } = makeTestDeps();
    await expect(applyPools(deps, { 'no spaces': 2 }, {})).rejects.toThrow(/name/);
    expect(await deps.store.getPool('no spaces')).toBeNull();
  });

  it('reads the slots CloudFormation hands over as strings, and names a pool that is not a number', () => {
    expect(poolsOf({ warehouse: '8', api: '-1' })).toEqual({ warehouse: 8, api: -1 });
    expect(poolsOf(undefined)).toEqual({});
    expect(() => poolsOf({ warehouse: 'eight' })).toThrow(/pools\.warehouse/);
  });
});
