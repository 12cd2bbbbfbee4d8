/**
 * The sweep on DynamoDB: the store hands over every live instance with the holders (`listLiveTis`,
 * one walk over the listed runs), so the sweep reads no run it can see has work in flight, and
 * still looks at a run with nothing under way (a lost task_finished event).
 */
import { describe, expect, vi } from 'vitest';
import { DynamoDbStateStore } from '#adapters/dynamodb/dynamodb-store.ts';
import { dag } from '#sdk/index.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { ddbTest as test } from '../../support/ddb.ts';
import { harnessOn } from '../../support/service-harness.ts';
import { sweepRecoversLostEvent } from '../../support/sweep-scenarios.ts';

const noop = async () => null;

/** The service harness on a DynamoDB store that reads the harness's clock. */
function harness(ddb: ConstructorParameters<typeof DynamoDbStateStore>[0], table: string) {
  let now = () => 0;
  const h = harnessOn(new DynamoDbStateStore(ddb, table, { reconcileSettleMs: 0, now: () => now() }));
  now = h.clock.now;
  return h;
}

describe('the sweep on DynamoDB', () => {
  test('reads no run whose instance waits in a full pool, and leaves it to the claim', async ({
    ddb,
    table,
  }) => {
    // Prepare: a 1-slot pool; run 1 holds it, run 2's instance is scheduled behind it.
    const h = harness(ddb, table);
    await h.store.putPool({ name: 'tiny', slots: 1, description: '', includeDeferred: false });
    await h.register(dag('waits', { schedule: null }, (d) => void d.task('t', { pool: 'tiny' }, noop)));
    const r1 = await triggerRun(h.deps, { dagId: 'waits', now: h.clock.now() });
    await h.pass();
    h.clock.advance(1_000);
    const r2 = await triggerRun(h.deps, { dagId: 'waits', now: h.clock.now() });
    await h.pass();
    const states = async (runId: string) => (await h.store.listTis('waits', runId)).map((ti) => ti.state);
    expect(await states(r1.runId)).toEqual(['queued']);
    expect(await states(r2.runId)).toEqual(['scheduled']);
    const listTis = vi.spyOn(h.store, 'listTis');

    // Act: a sweep (run 1's try is queued but not stuck yet).
    h.clock.advance(1_000);
    const swept = await h.pass({ sweep: true });

    // Assess: neither run was read whole, nor evaluated; run 2 is claimed once run 1's try ends.
    expect(listTis.mock.calls.map(([, runId]) => runId)).toEqual([]);
    expect(swept.advance.tisChanged).toBe(0);
    listTis.mockRestore();
    expect(await h.work()).toEqual(['t']);
    await schedulerPass(h.deps, { now: h.clock.now(), sweep: true });
    expect(await states(r2.runId)).toEqual(['queued']);
  });

  test('still looks at a run with nothing under way: a lost task_finished event is recovered', async ({
    ddb,
    table,
  }) => {
    await sweepRecoversLostEvent(harness(ddb, table));
  });
});
