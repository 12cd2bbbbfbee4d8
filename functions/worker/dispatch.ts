/**
 * One dispatch record for the worker: decode it, refuse a try this invocation cannot finish (the
 * message returns to the queue for a fresh invocation), run it. A rejection fails only this record.
 */
import type { DispatchMessage, TaskExecutor } from '#ports';
import { runTry, type TryResult, type WorkerDeps } from '#services/run-try.ts';
import { decode } from '../../shared/messages.ts';

export interface WorkerFunctionDeps extends WorkerDeps {
  executor: TaskExecutor;
  workerId: string;
  heartbeatEveryMs: number;
  /** Time kept back from Lambda's deadline to end the try and report. @default 10_000 */
  reserveMs?: number;
  /** Below this much time left (after the reserve), a try is not started at all. @default 5_000 */
  minStartMs?: number;
  /** Also receives every task log line (the local stack's console). */
  log?: (message: DispatchMessage, line: string) => void;
}

async function handleDispatch(
  deps: WorkerFunctionDeps,
  body: string,
  remainingMs: number,
): Promise<TryResult> {
  const message = decode('dispatch', body);
  const now = deps.clock.now();
  const reserve = deps.reserveMs ?? 10_000;
  if (remainingMs - reserve < (deps.minStartMs ?? 5_000))
    throw new Error(`only ${remainingMs} ms left in this invocation: the try is left for the next one`);
  return runTry(deps, message, {
    workerId: deps.workerId,
    executor: deps.executor,
    heartbeatEveryMs: deps.heartbeatEveryMs,
    deadlineAt: now + remainingMs - reserve,
    ...(deps.log && { log: (line: string) => deps.log!(message, line) }),
  });
}

export { handleDispatch };
