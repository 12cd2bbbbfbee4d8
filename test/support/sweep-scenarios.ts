/**
 * Sweep scenarios shared by the memory-store service tests and the DynamoDB integration tests, so
 * both stores are held to the same story.
 */
import { expect } from 'vitest';
import { dag } from '#sdk/index.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { triggerRun } from '#services/trigger-run.ts';
import type { harnessOn } from './service-harness.ts';

const noop = async () => null;

/**
 * a → b; a's try ends and its task_finished event is lost, with nothing else under way: a sweep
 * a minute later looks at the run, and b goes on.
 */
async function sweepRecoversLostEvent(h: ReturnType<typeof harnessOn>): Promise<void> {
  await h.register(
    dag('lost_event', { schedule: null }, (d) => {
      d.task('a', noop).before(d.task('b', noop));
    }),
  );
  const run = await triggerRun(h.deps, { dagId: 'lost_event', now: h.clock.now() });
  await h.pass();
  expect(await h.work()).toEqual(['a']);
  h.events.splice(0);
  // An event-driven pass with no news looks at nothing: b waits.
  await schedulerPass(h.deps, { now: h.clock.now(), runs: [] });
  const states = (await h.store.listTis('lost_event', run.runId)).map((ti) => [ti.taskId, ti.state]);
  expect(Object.fromEntries(states)).toEqual({ a: 'success', b: 'none' });

  // The sweep a minute later looks at the run, and b goes on.
  h.clock.advance(60_000);
  const report = await h.pass({ sweep: true });
  expect(report.claim.dispatched.map((m) => m.key.taskId)).toEqual(['b']);
  expect(await h.work()).toEqual(['b']);
  await h.pass({ sweep: true });
  expect((await h.store.getRun('lost_event', run.runId))?.state).toBe('success');
}

export { sweepRecoversLostEvent };
