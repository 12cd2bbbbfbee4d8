/**
 * The scenario file of `updraft simulate` (a public interface: documented in docs/simulate.md).
 * Times are ISO-8601 instants; durations use the Duration syntax (`90s`, `5m`, `2h`) or milliseconds.
 */
import { z } from 'zod';
import { DagDefaultsInput } from '#core/dag-defaults.ts';
import { parseDuration } from '#core/duration.ts';

const Instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), {
  message: 'must be an ISO-8601 instant such as 2026-01-01T00:00:00Z',
});

const DurationField = z.union([z.number(), z.string()]).refine((v) => parseDuration(v).ok, {
  message: 'must be a duration such as 30s, 5m, 2h or a number of milliseconds',
});

/** How one task behaves in the simulation; matched by `dagId.taskId`, `dagId.*`, `*.taskId` or `*`. */
export const TaskBehavior = z
  .object({
    /** How long a try runs. @default "1m" */
    duration: DurationField.optional(),
    /** Uniform random spread around the duration, as a fraction (0.2 = ±20 %). @default 0 */
    jitter: z.number().min(0).max(1).optional(),
    /** Try numbers (1-based) that fail. */
    failTries: z.array(z.number().int().positive()).optional(),
    /** Probability that any try fails (drawn from the seeded generator). @default 0 */
    failRate: z.number().min(0).max(1).optional(),
    /** Sensors: how many pokes return false before one returns true. @default 0 */
    pokesUntilDone: z.number().int().nonnegative().optional(),
  })
  .strict();
export type TaskBehavior = z.infer<typeof TaskBehavior>;

export const Scenario = z
  .object({
    /** Seed of the random generator: same seed, same report. @default 1 */
    seed: z.number().int().optional(),
    start: Instant,
    end: Instant,
    settings: z
      .object({
        parallelism: z.number().int().positive().optional(),
        maxTisPerQuery: z.number().int().positive().optional(),
        heartbeatTimeout: DurationField.optional(),
        taskQueuedTimeout: DurationField.optional(),
        /** Worker concurrency per executor. */
        workerConcurrency: z
          .object({
            lambda: z.number().int().positive().optional(),
            fargate: z.number().int().positive().optional(),
          })
          .strict()
          .optional(),
        /** The deployment's DAG defaults (as the Updraft construct's `dagDefaults`); DAG options win. */
        dagDefaults: DagDefaultsInput.optional(),
      })
      .strict()
      .optional(),
    /** Pools to create before the simulation starts (`default_pool` exists with 128 slots unless resized here). */
    pools: z
      .array(
        z
          .object({
            name: z.string().min(1),
            slots: z.number().int().min(-1),
            description: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
    /** DAG ids to leave paused; every other DAG is unpaused at the start. */
    paused: z.array(z.string()).optional(),
    /** Only simulate these DAGs (all DAGs in the folder when absent). */
    dags: z.array(z.string()).optional(),
    tasks: z.record(z.string(), TaskBehavior).optional(),
    triggers: z
      .array(
        z
          .object({ at: Instant, dagId: z.string(), conf: z.record(z.string(), z.unknown()).optional() })
          .strict(),
      )
      .optional(),
    backfills: z
      .array(
        z
          .object({
            at: Instant,
            dagId: z.string(),
            from: Instant,
            to: Instant,
            reprocessBehavior: z.enum(['none', 'failed', 'completed']).optional(),
            runBackwards: z.boolean().optional(),
            maxActiveRuns: z.number().int().positive().optional(),
          })
          .strict(),
      )
      .optional(),
    /** Pool resizes during the simulation. */
    poolChanges: z
      .array(z.object({ at: Instant, name: z.string(), slots: z.number().int().min(-1) }).strict())
      .optional(),
    /** Delay between a task finishing and the scheduler reacting (event queue latency). @default "1s" */
    schedulerLatency: DurationField.optional(),
    /** Sweep cadence. @default "1m" */
    sweepEvery: DurationField.optional(),
  })
  .strict()
  .refine((s) => Date.parse(s.end) > Date.parse(s.start), {
    message: 'end must be after start',
    path: ['end'],
  });
export type Scenario = z.infer<typeof Scenario>;
