/**
 * ECS "Task State Change" events (EventBridge) of the containers Updraft started: which try the
 * task ran (`UPDRAFT_TRY` in its container overrides) and how it ended. Events of other tasks, and
 * of tasks not yet stopped, read as null.
 */
import { z } from 'zod';
import type { TiKey } from '#core/model.ts';

const TryIdentity = z.object({
  key: z.object({ dagId: z.string(), runId: z.string(), taskId: z.string(), mapIndex: z.number().int() }),
  tryNumber: z.number().int().nonnegative(),
});

const TaskStateChange = z.object({
  'detail-type': z.literal('ECS Task State Change'),
  detail: z.object({
    taskArn: z.string(),
    lastStatus: z.string(),
    startedBy: z.string().optional(),
    stoppedReason: z.string().optional(),
    stopCode: z.string().optional(),
    containers: z
      .array(
        z.object({ name: z.string(), exitCode: z.number().int().optional(), reason: z.string().optional() }),
      )
      .default([]),
    overrides: z
      .object({
        containerOverrides: z
          .array(
            z.object({
              name: z.string(),
              environment: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
            }),
          )
          .default([]),
      })
      .optional(),
  }),
});

type TaskStateChange = z.infer<typeof TaskStateChange>;

export interface StoppedTry {
  key: TiKey;
  tryNumber: number;
  taskArn: string;
  /** The exit code of the container that ran the command; null when it never ran. */
  exitCode: number | null;
  reason?: string;
}

/** The stopped try an event reports, or null for an event that is not about one. */
function stoppedTryOf(event: unknown): StoppedTry | null {
  const parsed = TaskStateChange.safeParse(event);
  if (!parsed.success || parsed.data.detail.lastStatus !== 'STOPPED') return null;
  const { detail } = parsed.data;
  for (const override of detail.overrides?.containerOverrides ?? []) {
    const raw = override.environment?.find((e) => e.name === 'UPDRAFT_TRY')?.value;
    if (!raw) continue;
    let identity: z.infer<typeof TryIdentity>;
    try {
      identity = TryIdentity.parse(JSON.parse(raw));
    } catch {
      return null;
    }
    const container = detail.containers.find((c) => c.name === override.name);
    const reason = container?.reason ?? detail.stoppedReason;
    return {
      ...identity,
      taskArn: detail.taskArn,
      exitCode: container?.exitCode ?? null,
      ...(reason && { reason }),
    };
  }
  return null;
}

/** The event ECS sends when a task stops, as the local container launcher reproduces it. */
function taskStoppedEvent(input: {
  taskArn: string;
  containerName: string;
  environment: Record<string, string>;
  exitCode: number | null;
  reason?: string;
}): TaskStateChange {
  return {
    'detail-type': 'ECS Task State Change',
    detail: {
      taskArn: input.taskArn,
      lastStatus: 'STOPPED',
      startedBy: 'updraft',
      ...(input.reason && { stoppedReason: input.reason }),
      containers: [
        { name: input.containerName, ...(input.exitCode !== null && { exitCode: input.exitCode }) },
      ],
      overrides: {
        containerOverrides: [
          {
            name: input.containerName,
            environment: Object.entries(input.environment).map(([name, value]) => ({ name, value })),
          },
        ],
      },
    },
  };
}

export { stoppedTryOf, taskStoppedEvent };
