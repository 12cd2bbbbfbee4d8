/**
 * The catalog of every message that crosses a queue or a schedule. Producers `encode` through it and
 * handlers `decode` at the edge, so a message is validated on both sides by one schema.
 *
 * | type              | travels                                                   | consumer          |
 * | ----------------- | --------------------------------------------------------- | ----------------- |
 * | `dispatch`        | dispatch queue (SQS)                                      | worker            |
 * | `scheduler-event` | scheduler-events queue (SQS)                              | scheduler         |
 * | `schedule-wakeup` | EventBridge Scheduler → scheduler (function or the queue) | scheduler         |
 *
 * On the wire a message is its body as JSON with the catalog `version` in a `v` field.
 *
 * Compatibility rules:
 * - Add a field as optional, with a comment saying what its absence means; keep `version`.
 * - Any other change (remove, rename, change meaning) bumps `version`. A consumer rejects a version it
 *   does not know: the message returns to its queue and, after `retry.maxReceiveCount`, to the DLQ. So
 *   deploy consumers before producers.
 * - Unknown fields are dropped, so a producer one release ahead does not break a consumer.
 */
import { z } from 'zod';
import { UpdraftError } from '#core/errors.ts';
import { EXECUTORS } from '#core/manifest.ts';
import type { DispatchMessage as DispatchMessagePort, SchedulerEvent as SchedulerEventPort } from '#ports';

/** A message that does not match its schema: names the message type and the offending field. */
class MessageError extends UpdraftError {
  override name = 'MessageError';
  constructor(
    readonly messageType: string,
    readonly field: string,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`${messageType} message: ${field}: ${detail}`, options);
  }
}

const name = z.string().min(1, { message: 'must be a non-empty string' });

const TiKey = z.object({
  dagId: name,
  runId: name,
  taskId: name,
  mapIndex: z.number().int().min(-1, { message: 'must be a whole number ≥ -1' }),
});

const epochMs = z.number().int({ message: 'must be a whole number of epoch milliseconds' });

/** The run fields a dispatch carries (see `DispatchMessage.run` in ports.ts). */
const DispatchedRun = z.object({
  logicalDate: epochMs,
  dataIntervalStart: epochMs,
  dataIntervalEnd: epochMs,
  conf: z.record(z.string(), z.unknown(), { message: 'must be a JSON object' }),
  startedAt: epochMs.nullable(),
});

/** One claimed try handed to an executor. */
const DispatchMessage = z.object({
  key: TiKey,
  tryNumber: z.number().int().min(0, { message: 'must be a whole number ≥ 0' }),
  dagVersion: name,
  executor: z.enum(EXECUTORS, { message: `must be one of ${EXECUTORS.join(', ')}` }),
  /**
   * The run as the claim pass read it, so the worker need not read it. Absent (a producer from
   * before 2026-12-03, a run the pass did not have, a conf too large to carry): the worker reads the run.
   */
  run: DispatchedRun.optional(),
}) satisfies z.ZodType<DispatchMessagePort>;
type DispatchMessage = z.infer<typeof DispatchMessage>;

/** Something the scheduler should look at now rather than at the next sweep. */
const SchedulerEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('task_finished'),
    dagId: name,
    runId: name,
    /**
     * The task whose try ended, the try's number and the run's DAG version, so the scheduler looks
     * at the task's downstream only. Absent (a worker from before they were sent): the scheduler
     * evaluates the whole run, as it did then.
     */
    taskId: name.optional(),
    tryNumber: z.number().int().min(0, { message: 'must be a whole number ≥ 0' }).optional(),
    dagVersion: name.optional(),
  }),
  z.object({ type: z.literal('run_triggered'), dagId: name, runId: name }),
  z.object({ type: z.literal('dag_registered'), dagId: name }),
  z.object({ type: z.literal('pool_changed'), pool: name }),
  /** Without `dagId`: look at every DAG. */
  z.object({ type: z.literal('tick'), dagId: name.optional() }),
]) satisfies z.ZodType<SchedulerEventPort>;
type SchedulerEvent = z.infer<typeof SchedulerEvent>;

/** What an EventBridge schedule delivers: a DAG's one-shot wake-up, or the periodic sweep. */
const ScheduleWakeUp = z.discriminatedUnion('type', [
  z.object({ type: z.literal('wakeup'), dagId: name }),
  z.object({ type: z.literal('sweep') }),
]);
type ScheduleWakeUp = z.infer<typeof ScheduleWakeUp>;

/** How failed deliveries are retried. */
interface RetryPolicy {
  /** Receives before SQS moves the message to the DLQ (the queue's redrive policy). */
  maxReceiveCount: number;
  /** EventBridge Scheduler's own retries of a delivery that failed (schedule messages only). */
  maximumRetryAttempts?: number;
  /** EventBridge Scheduler gives up on a delivery older than this (schedule messages only). */
  maximumEventAgeSeconds?: number;
}

interface MessageSpec<S extends z.ZodType> {
  schema: S;
  /** Written as `v` on the wire; bumped on any change that is not an added optional field. */
  version: number;
  /** The consuming function's timeout: the time one batch may take. */
  consumerTimeoutSeconds: number;
  /** How long a received message stays invisible: 6 × the consumer's timeout (Lambda's guidance). */
  visibilityTimeoutSeconds: number;
  retry: RetryPolicy;
}

function spec<S extends z.ZodType>(
  schema: S,
  opts: { version: number; consumerTimeoutSeconds: number; retry: RetryPolicy },
): MessageSpec<S> {
  return { schema, ...opts, visibilityTimeoutSeconds: 6 * opts.consumerTimeoutSeconds };
}

const messageCatalog = {
  /** A worker runs the try; a duplicate delivery is a no-op (startTry is conditional). */
  dispatch: spec(DispatchMessage, { version: 1, consumerTimeoutSeconds: 900, retry: { maxReceiveCount: 5 } }),
  /** A scheduler pass looks at what the event names; losing one only delays work to the next sweep. */
  'scheduler-event': spec(SchedulerEvent, {
    version: 1,
    consumerTimeoutSeconds: 60,
    retry: { maxReceiveCount: 5 },
  }),
  /** A wake-up later than a sweep period is redundant: the sweep has looked already. */
  'schedule-wakeup': spec(ScheduleWakeUp, {
    version: 1,
    consumerTimeoutSeconds: 60,
    retry: { maxReceiveCount: 5, maximumRetryAttempts: 3, maximumEventAgeSeconds: 300 },
  }),
} as const;

type MessageCatalog = typeof messageCatalog;
type MessageType = keyof MessageCatalog;
type MessageBody<T extends MessageType> = z.infer<MessageCatalog[T]['schema']>;
/** A decoded message of one of several types, discriminated by `type`. */
type Decoded<T extends MessageType> = { [K in T]: { type: K; body: MessageBody<K> } }[T];

const MESSAGE_TYPES = Object.keys(messageCatalog) as MessageType[];

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return 'is required';
  return issue.message;
}

function fieldOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(message)' : path.map(String).join('.');
}

/** Validates `body` against its schema and returns the wire form: JSON with `v`. */
function encode<T extends MessageType>(type: T, body: MessageBody<T>): string {
  const { schema, version } = messageCatalog[type];
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MessageError(type, fieldOf(issue.path), describeIssue(issue));
  }
  return JSON.stringify({ v: version, ...(parsed.data as object) });
}

function parseRaw(type: string, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new MessageError(type, '(message)', 'is not JSON', { cause: error });
  }
}

/**
 * Parses a message of `type` from its wire form (a JSON string, or the already-parsed object an
 * EventBridge schedule hands to a function) and throws a `MessageError` naming the first bad field.
 */
function decode<T extends MessageType>(type: T, raw: unknown): MessageBody<T> {
  const { schema, version } = messageCatalog[type];
  const value = parseRaw(type, raw);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MessageError(type, '(message)', 'must be a JSON object');
  }
  // `v` is optional for compatibility: absent means the current version (hand-written test events).
  const { v = version, ...body } = value as Record<string, unknown>;
  if (v !== version) {
    throw new MessageError(
      type,
      'v',
      `version ${JSON.stringify(v)} is not the one this Updraft reads (${version})`,
    );
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MessageError(type, fieldOf(issue.path), describeIssue(issue));
  }
  return parsed.data as MessageBody<T>;
}

/**
 * Decodes a message that may be any of `types` (the scheduler's queue carries both scheduler events
 * and schedule wake-ups). The first type whose schema accepts it wins; their `type` values differ.
 */
function decodeAny<T extends MessageType>(types: readonly T[], raw: unknown): Decoded<T> {
  const errors: MessageError[] = [];
  for (const type of types) {
    try {
      return { type, body: decode(type, raw) } as Decoded<T>;
    } catch (error) {
      if (!(error instanceof MessageError)) throw error;
      errors.push(error);
    }
  }
  // Report the error of the type the message got furthest into (one that did not fail on `type`).
  const best = errors.find((e) => e.field !== 'type' && e.field !== '(message)') ?? errors[0]!;
  throw new MessageError(types.join(' | '), best.field, best.detail, { cause: best });
}

export {
  type Decoded,
  DispatchMessage,
  decode,
  decodeAny,
  encode,
  MESSAGE_TYPES,
  type MessageBody,
  type MessageCatalog,
  MessageError,
  type MessageSpec,
  type MessageType,
  messageCatalog,
  type RetryPolicy,
  SchedulerEvent,
  ScheduleWakeUp,
};
