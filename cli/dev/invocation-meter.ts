/**
 * What each invocation of the local stack would be billed for in AWS, where every invocation has a
 * runtime (and a CPU) of its own. Locally, 16 worker loops, the scheduler, fauxqs and the SDK
 * clients share one Node process and one event loop, so an invocation's wall time is mostly
 * waiting: for DynamoDB Local (slower than DynamoDB), for requests another invocation sent on its
 * behalf (a group commit of try ends), and for the event loop while other invocations run. The
 * meter keeps apart, per invocation:
 *
 * - its own compute: the CPU time of the synchronous segments its async context runs (async_hooks
 *   `before` and `after`, each segment timed by this process's CPU clock, not the wall clock: on a
 *   machine shared with other work a segment's wall time holds the time the thread waited for a
 *   core), only while the model is on (`compute.enable()`: hooks cost, ≈ 2 µs a segment);
 * - its I/O: every AWS request it sent, and every request of shared work it waited on
 *   (`sharedWork`, #core/shared-work.ts), each attempt timed by a middleware on the clients.
 *
 * `modeledDuration` then puts the two together.
 */
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SharedWorkObserver } from '#core/shared-work.ts';

/** One AWS request an invocation made or waited on (each attempt of it), on this process's clock. */
export interface TimedRequest {
  service: 'dynamodb' | 'sqs' | 's3';
  /** The SDK command's name, e.g. `TransactWriteItemsCommand`. */
  command: string;
  /** Actions of a `TransactWriteItems`, keys of a `BatchGetItem`, entries of a batch send; else 1. */
  size: number;
  start: number;
  end: number;
}

/** One invocation as metered. */
export interface Invocation {
  /** Its own AWS requests and those of shared work it waited on. */
  requests: TimedRequest[];
  /** CPU time of the synchronous execution in its async context (a share of shared work's), in ms. */
  computeMs: number;
  /** Its handler has returned: what still runs in its context (a timer, a let-back) is not billed to it. */
  done: boolean;
}

/** Shared work's callers (tokens of `sharedWork.join`: invocations, or other shared work). */
interface Shared {
  callers: unknown[];
}

type Charge = Invocation | Shared;

const isInvocation = (charge: unknown): charge is Invocation =>
  typeof charge === 'object' && charge !== null && 'requests' in charge;
const isShared = (charge: unknown): charge is Shared =>
  typeof charge === 'object' && charge !== null && 'callers' in charge;

/** Who the async context's work is for: none outside an invocation. */
const charges = new AsyncLocalStorage<Charge>();

/** The running invocations a charge stands for (shared work within shared work flattened). */
function invocationsOf(charge: unknown, out: Set<Invocation> = new Set()): Set<Invocation> {
  if (isInvocation(charge)) {
    if (!charge.done) out.add(charge);
  } else if (isShared(charge)) {
    for (const caller of charge.callers) invocationsOf(caller, out);
  }
  return out;
}

/** This process's CPU time (user + system, every thread), in ms. */
function cpuMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/**
 * Synchronous execution charged to the context that runs it: a stack of the async resources being
 * run (callbacks can nest), and the CPU time since the last `before`/`after` charged to its top.
 * Time with nothing on the stack (the event loop idle, or work of no invocation: fauxqs, the
 * pollers) is nobody's. Shared work's time is split among the invocations waiting for it. The
 * clock is the whole process's, so a helper thread's work (the GC's) during a segment is charged
 * to it too: the charges never add up to more than the process's CPU time.
 */
class ComputeMeter {
  /**
   * Segments charged so far. Each costs one read of the clock (≈ 1–3 µs here: a `getrusage`),
   * which lands inside the figures: their upper bound is the meter's own cost.
   */
  segments = 0;
  readonly #stack: { id: number; charge: Charge | undefined }[] = [];
  #last = 0;
  #users = 0;

  constructor(private readonly clock: () => number = cpuMs) {}
  readonly #hook = createHook({
    before: (id) => this.#enter(id, charges.getStore()),
    after: (id) => this.#leave(id),
  });

  /** Starts timing (counted: each `enable` wants one `disable`). */
  enable(): void {
    if (this.#users++ === 0) this.#hook.enable();
  }

  disable(): void {
    if (this.#users === 0 || --this.#users > 0) return;
    this.#hook.disable();
    this.#stack.length = 0;
  }

  /** Runs `fn` for `charge`: its synchronous part too (it runs in the caller's callback). */
  run<T>(charge: Charge, fn: () => T): T {
    this.#enter(-1, charge);
    try {
      return charges.run(charge, fn);
    } finally {
      this.#leave(-1);
    }
  }

  #top(): Charge | undefined {
    return this.#stack[this.#stack.length - 1]?.charge;
  }

  // The clock is read only where a charged segment starts or ends: fauxqs's and the pollers' stay unread.
  #enter(id: number, charge: Charge | undefined): void {
    const current = this.#top();
    if (current || charge) this.#chargeUntil(current, this.clock());
    this.#stack.push({ id, charge });
  }

  #leave(id: number): void {
    const current = this.#top();
    // An `after` missed (a callback that threw) must not leave its frame behind.
    for (let top = this.#stack.pop(); top && top.id !== id; top = this.#stack.pop());
    if (current || this.#top()) this.#chargeUntil(current, this.clock());
  }

  #chargeUntil(charge: Charge | undefined, now: number): void {
    const ms = now - this.#last;
    this.#last = now;
    if (!charge || ms <= 0) return;
    this.segments += 1;
    if (isInvocation(charge)) {
      if (!charge.done) charge.computeMs += ms;
      return;
    }
    const waiting = invocationsOf(charge);
    for (const invocation of waiting) invocation.computeMs += ms / waiting.size;
  }
}

const compute = new ComputeMeter();

/** The observer given to whatever groups work (the store's try ends, the worker's grouped events and passes). */
const sharedWork: SharedWorkObserver = {
  join: () => charges.getStore(),
  run: (callers, work) => compute.run({ callers }, work),
};

/** Runs an invocation's handler metered as `invocation`. */
function meterInvocation<R>(invocation: Invocation, handler: () => Promise<R>): Promise<R> {
  return compute.run(invocation, handler);
}

/** Times each attempt of each request made inside an invocation or shared work, for whom it is. */
function timeRequests(client: DynamoDBClient | SQSClient | S3Client, service: TimedRequest['service']): void {
  (client as SQSClient).middlewareStack.add(
    (next, context) => async (args) => {
      const charge = charges.getStore();
      if (!charge) return next(args);
      const start = performance.now();
      try {
        return await next(args);
      } finally {
        const command = String(context.commandName);
        const request = { service, command, size: sizeOf(args.input), start, end: performance.now() };
        // Read at the end: a caller that joined shared work while this request was in flight waited on it too.
        for (const invocation of invocationsOf(charge)) invocation.requests.push(request);
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'updraftTimeRequests' },
  );
}

function sizeOf(input: unknown): number {
  const i = input as {
    TransactItems?: unknown[];
    RequestItems?: Record<string, { Keys?: unknown[] } | unknown[]>;
    Entries?: unknown[];
  };
  if (i.TransactItems) return i.TransactItems.length;
  // BatchGetItem names keys per table; BatchWriteItem lists its requests per table.
  if (i.RequestItems)
    return Object.values(i.RequestItems).reduce(
      (n: number, r) => n + (Array.isArray(r) ? r.length : (r.Keys?.length ?? 1)),
      0,
    );
  return i.Entries?.length ?? 1;
}

/** An invocation as measured: its wall time, its own compute and the requests it waited on. */
export interface MeasuredInvocation {
  /** When its handler was called and when it returned, on the requests' clock. */
  start: number;
  end: number;
  /** CPU time of the synchronous execution in its own context (`ComputeMeter`); null: not measured (the model is off). */
  computeMs: number | null;
  requests: TimedRequest[];
  /**
   * The share of a core it has in AWS: Lambda gives a function CPU in proportion to its memory, a
   * whole vCPU at 1,769 MB, and one thread uses at most one. Its compute takes that much longer.
   * @default 1
   */
  vcpus?: number;
}

/**
 * An invocation's duration as AWS would bill it, with its requests at `latencyMs`:
 *
 *   own compute / vCPUs + I/O, where I/O = the wall time with at least one of its requests (own or shared)
 *   in flight, within the invocation (the union of their intervals, clipped to it), scaled by
 *   Σ modelled / Σ local latency of those requests — requests made side by side stay side by side.
 *
 * Compute and I/O are added as if they never overlapped: an upper bound of the critical path of an
 * invocation with a CPU (share) of its own; it may exceed the local busy time, where the process
 * had a whole core of this machine, which a small function in AWS has not. What the local busy
 * time holds beside them is dropped: waiting for this process's event loop while other
 * invocations (or fauxqs, or the pollers) run, which in AWS, each invocation in a runtime of its
 * own, does not happen. Not modelled, so also dropped: waits on timers (a retry's back-off) and
 * on local stand-ins (a container's exit). Without a model, or without measured compute: the busy
 * time itself.
 */
function modeledDuration(
  invocation: MeasuredInvocation,
  latencyMs?: (request: TimedRequest) => number,
): { busyMs: number; ioMs: number; ms: number } {
  const { start, end, requests } = invocation;
  const busyMs = end - start;
  const sorted = requests
    .map((r) => ({ start: Math.max(r.start, start), end: Math.min(r.end, end) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  let ioMs = 0;
  let reached = Number.NEGATIVE_INFINITY;
  for (const r of sorted) {
    if (r.start > reached) ioMs += r.end - r.start;
    else if (r.end > reached) ioMs += r.end - reached;
    reached = Math.max(reached, r.end);
  }
  if (!latencyMs || invocation.computeMs === null) return { busyMs, ioMs, ms: busyMs };
  const local = requests.reduce((sum, r) => sum + (r.end - r.start), 0);
  const modeled = requests.reduce((sum, r) => sum + latencyMs(r), 0);
  const io = local > 0 ? ioMs * (modeled / local) : 0;
  const computing = invocation.computeMs / Math.min(1, invocation.vcpus ?? 1);
  return { busyMs, ioMs, ms: computing + io };
}

export { ComputeMeter, compute, meterInvocation, modeledDuration, sharedWork, timeRequests };
