/**
 * The local stack for end-to-end tests: the real handlers on the DynamoDB Local and fauxqs the test
 * run started (test/setup/), with resource names of their own, short timeouts and a fast sweep, so
 * heartbeats, stuck dispatches and retries play out in seconds. `waitFor` polls the store: a
 * condition that never comes fails the test with what was last seen.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { DagRun, TaskInstance } from '#core/model.ts';
import type { Logger } from '#ports';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../../cli/dev/stack.ts';
import { uniqueName } from '../../support/aws-local.ts';

/** Settings for tests: silence is noticed in 2 s, a dispatch that never arrives in 2 s. */
const FAST = { heartbeatTimeoutMs: 2_000, taskQueuedTimeoutMs: 2_000, parallelism: 128 };

function startTestStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    dataDir: null,
    dynamodbEndpoint: inject('ddbEndpoint'),
    awsEndpoint: inject('fauxqsEndpoint'),
    prefix: `${uniqueName('e2e')}-`,
    sweepEveryMs: 500,
    heartbeatEveryMs: 250,
    concurrency: { worker: 4, scheduler: 2 },
    ...options,
    settings: { ...FAST, ...options.settings },
  });
}

/** Polls until `done`; 90 s by default, inside the 120 s test timeout: a loaded CI machine is slow, not wrong. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; last seen: ${JSON.stringify(last, null, 1).slice(0, 2000)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}

/** Waits until the run has finished; returns it with its task instances by task id. */
async function finishedRun(stack: LocalStack, dagId: string, runId: string, timeoutMs?: number) {
  const run = (await waitFor(
    `run ${dagId} ${runId} to finish`,
    () => stack.deps.store.getRun(dagId, runId),
    (r) => r?.state === 'success' || r?.state === 'failed',
    timeoutMs,
  )) as DagRun;
  const tis = await stack.deps.store.listTis(dagId, runId);
  return { run, tis: new Map(tis.map((ti) => [ti.taskId, ti])) };
}

/**
 * An example DAG's source with its waits shortened for tests. Each replacement must match exactly
 * once, so a change to the example that a test relies on fails here, by name.
 */
function exampleSource(file: string, replacements: [string, string][] = []): string {
  let source = readFileSync(`examples/dags/${file}`, 'utf8');
  for (const [from, to] of replacements) {
    const count = source.split(from).length - 1;
    if (count !== 1)
      throw new Error(`examples/dags/${file}: expected "${from}" once, found it ${count} times`);
    source = source.replace(from, to);
  }
  return source;
}

/** The most slots held at once, from each instance's [from, to) interval and weight. */
function peak(
  tis: TaskInstance[],
  from: (ti: TaskInstance) => number | null,
  weight: (ti: TaskInstance) => number,
) {
  const edges: [number, number][] = [];
  for (const ti of tis) {
    const start = from(ti);
    if (start === null || ti.endedAt === null) continue;
    edges.push([start, weight(ti)], [ti.endedAt, -weight(ti)]);
  }
  // Ends before starts at the same instant: a slot released and taken in one millisecond is not two.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let held = 0;
  let max = 0;
  for (const [, delta] of edges) {
    held += delta;
    max = Math.max(max, held);
  }
  return max;
}

interface LoggedLine {
  service: string;
  level: keyof Logger;
  message: string;
  extra?: Record<string, unknown>;
}

/** A stack logger that keeps every line, to look for what a function said. */
function recordingLogger(): { logger: (service: string) => Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const logger = (service: string): Logger => {
    const at = (level: keyof Logger) => (message: string, extra?: Record<string, unknown>) =>
      void lines.push({ service, level, message, ...(extra && { extra }) });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  };
  return { logger, lines };
}

/** Uploads a DAG file (first registration unpauses it, as `npm start` does) and expects it registered. */
async function deployDag(stack: LocalStack, file: string, source: string): Promise<string[]> {
  const results = (await stack.putDagFile(file, source)) as {
    kind: string;
    message?: string;
    dags?: { dagId: string }[];
  }[];
  const [result] = results;
  if (result?.kind !== 'registered')
    throw new Error(`${file} did not register: ${JSON.stringify(result).slice(0, 500)}`);
  return result.dags!.map((d) => d.dagId);
}

/** A fresh folder for files that tasks write (what they did, to count it). */
function scratchDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'updraft-e2e-'));
}

export {
  deployDag,
  exampleSource,
  finishedRun,
  type LoggedLine,
  peak,
  recordingLogger,
  scratchDir,
  startTestStack,
  waitFor,
};
