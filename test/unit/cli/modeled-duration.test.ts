/**
 * The local stack's model of what AWS would bill for an invocation: its own compute (the callbacks
 * its async context runs, a share of shared work's), plus its requests — own, and those of shared
 * work it waited on — at a modelled latency instead of the emulators', side-by-side requests
 * counted once; the event loop's queueing behind other invocations dropped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compute,
  type Invocation,
  meterInvocation,
  modeledDuration,
  sharedWork,
  type TimedRequest,
  timeRequests,
} from '../../../cli/dev/invocation-meter.ts';

const req = (start: number, end: number, command = 'GetItemCommand'): TimedRequest => ({
  service: 'dynamodb',
  command,
  size: 1,
  start,
  end,
});

const measured = (end: number, computeMs: number | null, requests: TimedRequest[]) => ({
  start: 0,
  end,
  computeMs,
  requests,
});

describe('modeledDuration', () => {
  it('keeps the busy time when there is no model or no measured compute', () => {
    expect(modeledDuration(measured(50, 10, [req(0, 20)]))).toEqual({ busyMs: 50, ioMs: 20, ms: 50 });
    expect(modeledDuration(measured(50, null, [req(0, 20)]), () => 5)).toEqual({
      busyMs: 50,
      ioMs: 20,
      ms: 50,
    });
  });

  it('is own compute plus sequential requests at their modelled latency, the rest of the busy time dropped', () => {
    // 100 ms busy: two 30 ms requests one after the other, 10 ms of its own compute, 30 ms waiting for the event loop.
    const { ioMs, ms } = modeledDuration(measured(100, 10, [req(0, 30), req(30, 60)]), () => 6);
    expect(ioMs).toBe(60);
    expect(ms).toBeCloseTo(10 + 12);
  });

  it('counts requests in flight together once', () => {
    // Three 20 ms reads side by side, then one 20 ms write: 40 ms waiting, not 80.
    const requests = [req(0, 20), req(0, 20), req(0, 20), req(20, 40, 'TransactWriteItemsCommand')];
    const { ioMs, ms } = modeledDuration(measured(45, 5, requests), (r) =>
      r.command === 'GetItemCommand' ? 5 : 15,
    );
    expect(ioMs).toBe(40);
    // I/O scaled by Σ modelled / Σ local = 30 / 80: 40 × 0.375 = 15, plus 5 ms of computing.
    expect(ms).toBeCloseTo(20);
  });

  it('merges overlapping intervals that end in any order', () => {
    const { ioMs } = modeledDuration(measured(100, 0, [req(10, 50), req(20, 30), req(45, 70), req(80, 90)]));
    expect(ioMs).toBe(70);
  });

  it('counts a shared request only while the invocation was there to wait on it', () => {
    // A group commit sent at −30 by another invocation, joined by this one (born at 0), answered at 20.
    const { ioMs, ms } = modeledDuration(
      measured(40, 4, [req(-30, 20, 'TransactWriteItemsCommand')]),
      () => 10,
    );
    expect(ioMs).toBe(20);
    // 20 of its 50 local ms: 20 × 10 / 50 = 4, plus 4 of compute.
    expect(ms).toBeCloseTo(8);
  });

  it('stretches its compute by the share of a core the function has in AWS', () => {
    // 20 ms of CPU at half a vCPU take 40; a share above one core is one core for one thread.
    expect(modeledDuration({ ...measured(30, 20, [req(0, 10)]), vcpus: 0.5 }, () => 5).ms).toBeCloseTo(45);
    expect(modeledDuration({ ...measured(30, 20, [req(0, 10)]), vcpus: 2 }, () => 5).ms).toBeCloseTo(25);
  });
});

const cpuMs = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

/** Busy-waits until this process has used `ms` more of CPU time, synchronously. */
function spin(ms: number): void {
  const until = cpuMs() + ms;
  while (cpuMs() < until);
}

const invocation = (): Invocation => ({ requests: [], computeMs: 0, done: false });

describe('the compute meter', () => {
  beforeAll(() => compute.enable());
  afterAll(() => compute.disable());

  it('charges each callback to the invocation whose context runs it, interleaved or not', async () => {
    // Prepare: two invocations take turns on the event loop, A computing 3 × 10 ms, B 3 × 30 ms.
    const a = invocation();
    const b = invocation();
    const body = async (ms: number) => {
      spin(ms);
      await sleep(5);
      spin(ms);
      await null;
      spin(ms);
      await sleep(5);
    };

    // Act
    await Promise.all([meterInvocation(a, () => body(10)), meterInvocation(b, () => body(30))]);

    // Assess: its own 30 / 90 ms of CPU each, none of the other's (a segment of B's is 30) and none
    // of the sleeps; the margin is the test process's other threads.
    expect(a.computeMs).toBeGreaterThanOrEqual(30);
    expect(a.computeMs).toBeLessThan(45);
    expect(b.computeMs).toBeGreaterThanOrEqual(90);
    expect(b.computeMs).toBeLessThan(105);
  });

  it('splits shared work among the invocations that joined it, and nothing after an invocation is done', async () => {
    // Prepare: A and B join one piece of shared work that computes 40 ms; C has ended already.
    const [a, b, c] = [invocation(), invocation(), invocation()];
    c.done = true;
    const callers: unknown[] = [];
    for (const inv of [a, b, c]) meterInvocation(inv, async () => callers.push(sharedWork.join()));

    // Act
    await sharedWork.run(callers, async () => {
      await null;
      spin(40);
    });

    // Assess: 20 ms each for A and B (the sum is the work's, not twice it), none for C.
    expect(a.computeMs + b.computeMs).toBeGreaterThanOrEqual(40);
    expect(a.computeMs + b.computeMs).toBeLessThan(55);
    expect(a.computeMs).toBeCloseTo(b.computeMs, 0);
    expect(c.computeMs).toBe(0);
  });
});

type Middleware = (
  next: (args: unknown) => Promise<unknown>,
  context: { commandName: string },
) => (args: { input: unknown }) => Promise<unknown>;

/** A client whose requests take `ms` and answer nothing, with the meter's middleware on it. */
function fakeClient() {
  let middleware: Middleware | undefined;
  const client = { middlewareStack: { add: (m: Middleware) => (middleware = m) } };
  timeRequests(client as never, 'dynamodb');
  return {
    send: (commandName: string, ms: number) =>
      middleware!(() => sleep(ms).then(() => ({ output: {} })), { commandName })({ input: {} }),
  };
}

describe('the request meter', () => {
  it('gives a request to whoever waits on it: its sender, or every caller of the shared work that sent it', async () => {
    // Prepare: A reads on its own; A and B join a group commit; C joins it while it is in flight; D never does.
    const client = fakeClient();
    const [a, b, c, d] = [invocation(), invocation(), invocation(), invocation()];
    const callers: unknown[] = [];
    await meterInvocation(a, async () => {
      await client.send('GetItemCommand', 2);
      callers.push(sharedWork.join());
    });
    await meterInvocation(b, async () => callers.push(sharedWork.join()));
    await meterInvocation(d, async () => {});

    // Act
    const commit = sharedWork.run(callers, () => client.send('TransactWriteItemsCommand', 10));
    await meterInvocation(c, async () => callers.push(sharedWork.join()));
    await commit;

    // Assess
    const commands = (inv: Invocation) => inv.requests.map((r) => r.command);
    expect(commands(a)).toEqual(['GetItemCommand', 'TransactWriteItemsCommand']);
    expect(commands(b)).toEqual(['TransactWriteItemsCommand']);
    expect(commands(c)).toEqual(['TransactWriteItemsCommand']);
    expect(commands(d)).toEqual([]);
  });
});
