/**
 * Backfill semantics (SEMANTICS.md §9.4) through the real services on a real state store: every
 * implementation's test file calls `describeBackfills` with a factory of fresh, empty stores.
 * What each reprocess behaviour does with existing runs in every state, backwards order, the
 * backfill's own limit, no starvation of scheduled runs, idempotent creation under retries and
 * races, the rolling window, and cancel.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '#core/errors.ts';
import type { DagRun } from '#core/model.ts';
import { timetableFor } from '#core/timetable.ts';
import type { StateStore } from '#ports';
import { dag } from '#sdk/index.ts';
import { createBackfill } from '#services/backfill.ts';
import { cancelBackfill, getBackfillStatus } from '#services/backfill-status.ts';
import { fillWindow } from '#services/backfill-window.ts';
import { newRun } from '#services/create-runs.ts';
import { markRun } from '#services/runs.ts';
import { triggerRun } from '#services/trigger-run.ts';
import { type ApiHarness, makeApiHarness, T0 } from '../support/api-harness.ts';

type MakeStore = () => Promise<{ store: StateStore; cleanup: () => Promise<void> }>;

const DAY = 86_400_000;
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

/** T0 is 2026-01-05 00:00 UTC: the interval of 2026-01-04 has just ended. */
const daily = (maxActiveRuns = 16) =>
  dag('daily', { schedule: '@daily', startDate: '2025-06-01', maxActiveRuns }, (d) => {
    d.task('extract', async () => 1);
  });

function describeBackfills(name: string, makeStore: MakeStore): void {
  describe(`backfills: ${name}`, () => {
    async function withHarness(
      body: (h: ApiHarness) => Promise<void>,
      opts: { paused?: boolean; maxActiveRuns?: number } = {},
    ) {
      const { store, cleanup } = await makeStore();
      try {
        const h = makeApiHarness(store);
        await h.register(daily(opts.maxActiveRuns), { paused: opts.paused ?? true });
        await body(h);
      } finally {
        await cleanup();
      }
    }

    const backfillRuns = async (h: ApiHarness, backfillId: string) =>
      (await h.store.listRuns('daily', { limit: 500 })).items.filter((r) => r.backfillId === backfillId);

    async function setPaused(h: ApiHarness, paused: boolean) {
      const record = (await h.store.getDag('daily'))!;
      await h.store.updateDag('daily', record.updatedAt, { paused }, h.clock.now());
    }

    /** A manual run at a logical date, brought to `state` the way the API would. */
    async function seedRun(h: ApiHarness, logicalDate: number, state: DagRun['state']): Promise<DagRun> {
      const now = h.clock.now();
      const run = await triggerRun(h.deps, { dagId: 'daily', logicalDate, now });
      if (state === 'running')
        await h.store.updateRun(
          'daily',
          run.runId,
          { state: 'queued' },
          { state: 'running', startedAt: now },
        );
      if (state === 'success' || state === 'failed')
        await markRun(h.deps, { dagId: 'daily', runId: run.runId, state, now });
      return (await h.store.getRun('daily', run.runId))!;
    }

    describe('creation per reprocess behaviour, with an existing run in every state', () => {
      it.each([
        {
          behaviour: 'none' as const,
          expected: [
            ['create', null],
            ['skip', 'in flight'],
            ['skip', 'in flight'],
            ['skip', 'already exists'],
            ['skip', 'already exists'],
          ],
        },
        {
          behaviour: 'failed' as const,
          expected: [
            ['create', null],
            ['skip', 'in flight'],
            ['skip', 'in flight'],
            ['skip', 'already exists'],
            ['clear', null],
          ],
        },
        {
          behaviour: 'completed' as const,
          expected: [
            ['create', null],
            ['skip', 'in flight'],
            ['skip', 'in flight'],
            ['clear', null],
            ['clear', null],
          ],
        },
      ])('reprocess $behaviour: none, queued, running, success, failed', ({ behaviour, expected }) =>
        withHarness(async (h) => {
          // Prepare: 12-02 queued, 12-03 running, 12-04 success, 12-05 failed; 12-01 has no run.
          const seeded = {
            queued: await seedRun(h, day('2025-12-02'), 'queued'),
            running: await seedRun(h, day('2025-12-03'), 'running'),
            success: await seedRun(h, day('2025-12-04'), 'success'),
            failed: await seedRun(h, day('2025-12-05'), 'failed'),
          };
          const request = {
            dagId: 'daily',
            from: day('2025-12-01'),
            to: day('2025-12-05'),
            reprocessBehavior: behaviour,
            now: h.clock.now(),
          };
          // Act: a dry run, then the backfill.
          const dry = await createBackfill(h.deps, { ...request, dryRun: true });
          const created = await createBackfill(h.deps, request);
          // Assess: the dry run said what the backfill did, date by date.
          const decisions = (plan: typeof dry.plan) => plan.map((p) => [p.action, p.reason]);
          expect(decisions(dry.plan)).toEqual(expected);
          expect(decisions(created.plan)).toEqual(expected);
          const backfill = created.backfill!;
          const skips = expected.filter(([action]) => action === 'skip');
          expect(backfill.skipped.map((s) => s.reason)).toEqual(skips.map(([, reason]) => reason));
          expect(backfill.skippedCount).toBe(skips.length);
          // Runs in flight are left as they were.
          for (const state of ['queued', 'running'] as const) {
            expect(await h.store.getRun('daily', seeded[state].runId)).toMatchObject({
              state,
              backfillId: null,
              runType: 'manual',
            });
          }
          // Cleared runs are queued again under the backfill, with their tasks back to none.
          const cleared = expected.flatMap(([action], i) => (action === 'clear' ? [i] : []));
          for (const i of cleared) {
            const before = [seeded.queued, seeded.running, seeded.success, seeded.failed][i - 1]!;
            expect(await h.store.getRun('daily', before.runId)).toMatchObject({
              state: 'queued',
              runType: 'backfill',
              backfillId: backfill.backfillId,
              backfillOrdinal: i + 1,
              clearNumber: before.clearNumber + 1,
            });
            expect((await h.store.listTis('daily', before.runId)).map((t) => t.state)).toEqual(['none']);
          }
          const kept = [seeded.success, seeded.failed].filter((_, i) => expected[i + 3]![0] === 'skip');
          for (const run of kept) expect(await h.store.getRun('daily', run.runId)).toEqual(run);
          // One new run, for the date that had none.
          const own = await backfillRuns(h, backfill.backfillId);
          expect(own.map((r) => r.logicalDate).sort()).toEqual(
            [day('2025-12-01'), ...cleared.map((i) => day('2025-12-01') + i * DAY)].sort(),
          );
          const progress = (await getBackfillStatus(h.deps, backfill.backfillId)).progress;
          expect(progress).toMatchObject({
            total: 1 + cleared.length,
            queued: 1 + cleared.length,
            pending: 0,
            skipped: skips.length,
          });
        }),
      );
    });

    it('runs backwards: the newest logical date starts first, and the window rolls one by one', () =>
      withHarness(
        async (h) => {
          const { backfill } = await createBackfill(h.deps, {
            dagId: 'daily',
            from: day('2025-12-01'),
            to: day('2025-12-04'),
            runBackwards: true,
            maxActiveRuns: 1,
            now: h.clock.now(),
          });
          await h.drain(undefined, 40);
          const runs = await backfillRuns(h, backfill!.backfillId);
          const byStart = [...runs].sort(
            (a, b) => a.startedAt! - b.startedAt! || a.backfillOrdinal! - b.backfillOrdinal!,
          );
          expect(byStart.map((r) => new Date(r.logicalDate).toISOString().slice(0, 10))).toEqual([
            '2025-12-04',
            '2025-12-03',
            '2025-12-02',
            '2025-12-01',
          ]);
          expect(byStart.map((r) => r.backfillOrdinal)).toEqual([1, 2, 3, 4]);
          // One at a time: each run started after the previous one ended.
          for (let i = 1; i < byStart.length; i += 1)
            expect(byStart[i]!.startedAt!).toBeGreaterThanOrEqual(byStart[i - 1]!.endedAt!);
          expect(runs.every((r) => r.state === 'success')).toBe(true);
          expect((await getBackfillStatus(h.deps, backfill!.backfillId)).state).toBe('completed');
        },
        { paused: false },
      ));

    it("keeps to its own maxActiveRuns, which neither counts against nor is held by the DAG's", () =>
      withHarness(
        async (h) => {
          // Prepare: the DAG allows one run at a time; the backfill three.
          const { backfill } = await createBackfill(h.deps, {
            dagId: 'daily',
            from: day('2025-12-01'),
            to: day('2025-12-10'),
            maxActiveRuns: 3,
            now: h.clock.now(),
          });
          // Act
          await h.pass();
          // Assess: three backfill runs run, and the DAG's own scheduled run (due now) runs beside them.
          const runs = (await h.store.listRuns('daily', { limit: 100 })).items;
          const own = runs.filter((r) => r.backfillId === backfill!.backfillId);
          expect(own.filter((r) => r.state === 'running')).toHaveLength(3);
          expect(own.filter((r) => r.state === 'queued')).toHaveLength(3);
          // The window holds 2 × 3 runs; the other four dates are not created yet.
          expect(own).toHaveLength(6);
          const scheduled = runs.filter((r) => r.runType === 'scheduled');
          expect(scheduled.map((r) => r.state)).toEqual(['running']);
          const status = await getBackfillStatus(h.deps, backfill!.backfillId);
          expect(status.progress).toMatchObject({ total: 10, running: 3, queued: 3, pending: 4 });
        },
        { paused: false, maxActiveRuns: 1 },
      ));

    it('starves no scheduled run: one due during a 100-run backfill starts within one pass', () =>
      withHarness(
        async (h) => {
          // Prepare: 100 days up to 2026-01-03, ten at a time; the DAG runs one scheduled run at a time.
          const { backfill, pending } = await createBackfill(h.deps, {
            dagId: 'daily',
            from: day('2025-09-26'),
            to: day('2026-01-03'),
            now: h.clock.now(),
          });
          expect(backfill!.planned).toBe(100);
          // Created as the window rolls: 20 runs now, not 100.
          expect(await backfillRuns(h, backfill!.backfillId)).toHaveLength(20);
          expect(pending).toBe(80);
          await setPaused(h, false);
          // Act: one pass with the 2026-01-04 scheduled run due.
          await h.pass();
          // Assess
          const scheduled = () =>
            h.store
              .listRuns('daily', { limit: 200 })
              .then((p) => p.items.filter((r) => r.runType === 'scheduled'));
          expect((await scheduled()).map((r) => [r.logicalDate, r.state])).toEqual([
            [day('2026-01-04'), 'running'],
          ]);
          const own = await backfillRuns(h, backfill!.backfillId);
          expect(own.filter((r) => r.state === 'running')).toHaveLength(10);
          // A day later, mid-backfill, the next scheduled run is due: it starts in the next pass too.
          await h.drain(undefined, 3);
          h.clock.set(T0 + DAY);
          await h.pass();
          const later = await scheduled();
          expect(later.find((r) => r.logicalDate === day('2026-01-05'))?.state).toBe('running');
          expect((await backfillRuns(h, backfill!.backfillId)).some((r) => r.state === 'queued')).toBe(true);
        },
        { paused: true, maxActiveRuns: 1 },
      ));

    it('rolls a 100-run backfill to the end with at most maxActiveRuns running, then completes it', () =>
      withHarness(
        async (h) => {
          const { backfill } = await createBackfill(h.deps, {
            dagId: 'daily',
            from: day('2025-09-26'),
            to: day('2026-01-03'),
            maxActiveRuns: 10,
            now: h.clock.now(),
          });
          let peak = 0;
          for (let round = 0; round < 80; round += 1) {
            await h.pass();
            const own = await backfillRuns(h, backfill!.backfillId);
            peak = Math.max(peak, own.filter((r) => r.state === 'running').length);
            if (
              (await h.work()).length === 0 &&
              own.length === 100 &&
              own.every((r) => r.state === 'success')
            )
              break;
            h.clock.advance(1000);
          }
          await h.pass();
          const status = await getBackfillStatus(h.deps, backfill!.backfillId);
          expect(status).toMatchObject({
            state: 'completed',
            progress: { total: 100, success: 100, pending: 0, fraction: 1, etaMs: 0 },
          });
          expect(peak).toBe(10);
        },
        { paused: false },
      ));

    describe('idempotent creation', () => {
      const request = (h: ApiHarness) => ({
        dagId: 'daily',
        from: day('2025-12-01'),
        to: day('2025-12-03'),
        conf: { b: 1, a: [1, 2] },
        now: h.clock.now(),
      });

      it('the same request again (a retry) returns the backfill and creates nothing twice', () =>
        withHarness(async (h) => {
          const first = await createBackfill(h.deps, request(h));
          h.clock.advance(5000);
          // Same content, keys in another order, later: still the same request.
          const again = await createBackfill(h.deps, { ...request(h), conf: { a: [1, 2], b: 1 } });
          expect(first.replayed).toBe(false);
          expect(again).toMatchObject({
            replayed: true,
            backfill: { backfillId: first.backfill!.backfillId },
          });
          expect(await h.store.listBackfills('daily')).toHaveLength(1);
          expect(await backfillRuns(h, first.backfill!.backfillId)).toHaveLength(3);
        }));

      it("with the client's key: a retry is answered, the key on another request is refused", () =>
        withHarness(async (h) => {
          const first = await createBackfill(h.deps, { ...request(h), idempotencyKey: 'req-1' });
          const again = await createBackfill(h.deps, { ...request(h), idempotencyKey: 'req-1' });
          expect(again.backfill!.backfillId).toBe(first.backfill!.backfillId);
          await expect(
            createBackfill(h.deps, { ...request(h), maxActiveRuns: 2, idempotencyKey: 'req-1' }),
          ).rejects.toThrow(ConflictError);
          // A finished backfill is still found by its key.
          await cancelBackfill(h.deps, { backfillId: first.backfill!.backfillId, now: h.clock.now() });
          const late = await createBackfill(h.deps, { ...request(h), idempotencyKey: 'req-1' });
          expect(late).toMatchObject({
            replayed: true,
            backfill: { backfillId: first.backfill!.backfillId, cancelledAt: expect.any(Number) },
          });
          expect(await h.store.listBackfills('daily')).toHaveLength(1);
        }));

      it('two identical requests racing create one backfill', () =>
        withHarness(async (h) => {
          const [a, b] = await Promise.all([
            createBackfill(h.deps, request(h)),
            createBackfill(h.deps, request(h)),
          ]);
          expect(a.backfill!.backfillId).toBe(b.backfill!.backfillId);
          expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
          expect(await h.store.listBackfills('daily')).toHaveLength(1);
          expect(await backfillRuns(h, a.backfill!.backfillId)).toHaveLength(3);
        }));

      it('a retry after an attempt died half-way creates the runs the first one did not', () =>
        withHarness(async (h) => {
          // Prepare: the record was written, then the process died before any run.
          const { backfill } = await createBackfill(h.deps, { ...request(h), idempotencyKey: 'k' });
          const id = backfill!.backfillId;
          const runs = await backfillRuns(h, id);
          // Take the record back to "nothing materialized" and delete nothing: runs of 12-01 exist.
          const stored = (await h.store.getBackfill(id))!;
          await h.store.updateBackfill(
            id,
            { revision: stored.revision },
            { materialized: 0, skipped: [], skippedCount: 0 },
          );
          // Act
          const retry = await createBackfill(h.deps, { ...request(h), idempotencyKey: 'k' });
          // Assess: the same runs, none twice, none skipped as "in flight" (they are its own).
          expect(retry.replayed).toBe(true);
          expect((await backfillRuns(h, id)).map((r) => r.runId).sort()).toEqual(
            runs.map((r) => r.runId).sort(),
          );
          expect(await h.store.getBackfill(id)).toMatchObject({ materialized: 3, skippedCount: 0 });
        }));

      it('two schedulers rolling the same window act once, and one of them records it', () =>
        withHarness(async (h) => {
          const { backfill } = await createBackfill(h.deps, {
            dagId: 'daily',
            from: day('2025-12-01'),
            to: day('2025-12-20'),
            maxActiveRuns: 2,
            now: h.clock.now(),
          });
          const id = backfill!.backfillId;
          // Four runs are in the window; end two of them, then two rolls race on the same read.
          const own = await backfillRuns(h, id);
          // (Written straight to the store: marking through the service would roll the window itself.)
          for (const run of own.slice(0, 2))
            await h.store.updateRun(
              'daily',
              run.runId,
              { state: 'queued' },
              { state: 'success', endedAt: h.clock.now() },
            );
          const read = (await h.store.getBackfill(id))!;
          const steps = await Promise.all([
            fillWindow(h.deps, read, h.clock.now()),
            fillWindow(h.deps, read, h.clock.now()),
          ]);
          expect(steps.map((s) => s.won).sort()).toEqual([false, true]);
          const after = await backfillRuns(h, id);
          expect(after).toHaveLength(6);
          expect(new Set(after.map((r) => r.logicalDate)).size).toBe(6);
          expect(await h.store.getBackfill(id)).toMatchObject({
            materialized: 6,
            revision: read.revision + 1,
          });
        }));
    });

    it('keeps the first 200 skipped dates with their reasons, counts them all, and completes at once', () =>
      withHarness(async (h) => {
        // Prepare: 210 days that each have a finished run already.
        const now = h.clock.now();
        const record = (await h.store.getDag('daily'))!;
        const manifest = await h.deps.manifests.get('daily', record.currentVersion);
        const from = day('2025-06-01');
        for (let i = 0; i < 210; i += 1) {
          const info = timetableFor(manifest.schedule).manualRunInfo(from + i * DAY);
          const run = newRun(
            manifest,
            { ...info, runAfter: now },
            { runType: 'manual', now, runId: `seed_${i}` },
          );
          await h.store.createRun({ ...run, state: 'success', endedAt: now }, []);
        }
        // Act
        const { backfill } = await createBackfill(h.deps, {
          dagId: 'daily',
          from,
          to: from + 209 * DAY,
          now,
        });
        // Assess: nothing to run; the item keeps 200 reasons (it must stay far below 400 KB).
        expect(backfill).toMatchObject({ skippedCount: 210, materialized: 210, completedAt: now });
        expect(backfill!.skipped).toHaveLength(200);
        expect(new Set(backfill!.skipped.map((s) => s.reason))).toEqual(new Set(['already exists']));
        const stored = (await h.store.getBackfill(backfill!.backfillId))!;
        expect(JSON.stringify(stored).length).toBeLessThan(20_000);
        const status = await getBackfillStatus(h.deps, backfill!.backfillId);
        expect(status).toMatchObject({
          state: 'completed',
          progress: { total: 0, skipped: 210, fraction: 1 },
        });
      }));

    it('cancel stops creating and starting runs: queued ones fail, running ones finish, then it completes', () =>
      withHarness(
        async (h) => {
          const { backfill } = await createBackfill(h.deps, {
            dagId: 'daily',
            from: day('2025-12-01'),
            to: day('2025-12-20'),
            maxActiveRuns: 2,
            now: h.clock.now(),
          });
          const id = backfill!.backfillId;
          await h.pass();
          const status = await cancelBackfill(h.deps, { backfillId: id, now: h.clock.now() });
          expect(status.state).toBe('cancelled');
          expect(status.progress).toMatchObject({ total: 4, running: 2, failed: 2, queued: 0, pending: 0 });
          await expect(cancelBackfill(h.deps, { backfillId: id, now: h.clock.now() })).rejects.toThrow(
            ConflictError,
          );
          await h.drain();
          const runs = await backfillRuns(h, id);
          expect(runs).toHaveLength(4);
          expect(runs.map((r) => r.state).sort()).toEqual(['failed', 'failed', 'success', 'success']);
          expect((await h.store.getBackfill(id))?.completedAt).not.toBeNull();
          // A new backfill of the DAG is allowed once it is finished.
          const next = await createBackfill(h.deps, {
            dagId: 'daily',
            from: day('2025-11-01'),
            to: day('2025-11-02'),
            now: h.clock.now(),
          });
          expect(next.backfill!.backfillId).not.toBe(id);
        },
        { paused: false },
      ));
  });
}

export { describeBackfills };
