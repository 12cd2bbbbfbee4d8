/**
 * The API app on a real state store (DynamoDB Local in the contract tests) with a hand-driven
 * clock, recorded scheduler events and in-memory logs. Tests set the scene with the real services
 * (register a DAG, run scheduler passes, run tries), then call the API as a client would: through
 * `app.request`, the same fetch-style entry the Lambda and the local server use.
 */
import { MemoryLogStore } from '#adapters/memory/memory-log-store.ts';
import { compileDag } from '#core/compile.ts';
import type { DagDefinition } from '#core/definition.ts';
import type { DagManifest } from '#core/manifest.ts';
import { DEFAULT_SETTINGS, type TaskInstance } from '#core/model.ts';
import type { DispatchMessage, SchedulerEvent, StateStore, TaskOutcome } from '#ports';
import { ManifestCache, silentLogger } from '#services/deps.ts';
import { registerDag } from '#services/register-dag.ts';
import { schedulerPass } from '#services/scheduler-pass.ts';
import { beginTry, finishTry } from '#services/worker.ts';
import { createApiApp } from '../../functions/api/app.ts';
import type { ApiDeps } from '../../functions/api/deps.ts';
import { makeSchemaCheck } from './api-schema-check.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z');
const TOKEN = 'test-token-0123456789';

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field.
  body: any;
}

function makeApiHarness(store: StateStore) {
  let now = T0;
  const events: SchedulerEvent[] = [];
  const dispatched: DispatchMessage[] = [];
  const logs = new MemoryLogStore();
  const deps: ApiDeps = {
    store,
    settings: { ...DEFAULT_SETTINGS },
    logger: silentLogger,
    manifests: new ManifestCache(store),
    dispatcher: { dispatch: async (messages) => void dispatched.push(...messages) },
    events: { publish: async (e) => void events.push(...e) },
    schedules: { setNextWakeUp: async () => {} },
    logs,
    clock: { now: () => now },
    auth: { mode: 'token', token: TOKEN },
    deployment: { version: '0.1.0-test', commit: 'abc123', stage: 'test' },
  };
  const app = createApiApp(deps);
  const checkSchema = makeSchemaCheck(app);

  async function call(
    method: string,
    path: string,
    body?: unknown,
    options: { token?: string | null; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const token = options.token === undefined ? TOKEN : options.token;
    const headers: Record<string, string> = { ...options.headers };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await app.request(path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // Not JSON: the text as it is.
    }
    checkSchema(method, path, res.status, parsed);
    return { status: res.status, headers: res.headers, body: parsed };
  }

  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    set: (t: number) => {
      now = t;
    },
  };

  async function register(def: DagDefinition | DagManifest, opts: { paused?: boolean } = {}) {
    const manifest = 'manifestVersion' in def ? def : compileDag(def);
    const { dag } = await registerDag(deps, manifest, { now, fileloc: `dags/${manifest.dagId}.ts` });
    await store.updateDag(dag.dagId, dag.updatedAt, { paused: opts.paused ?? false }, now);
    return manifest;
  }

  function pass() {
    return schedulerPass(deps, { now, sweep: true });
  }

  /** Runs every dispatched try to completion at the current time, logging a line per try. */
  async function work(outcome: (ti: TaskInstance) => TaskOutcome = () => ({ state: 'success' })) {
    const ran: string[] = [];
    for (const message of dispatched.splice(0)) {
      const begun = await beginTry(deps, message, { now, workerId: 'test-worker' });
      if (begun.kind !== 'started') continue;
      const { ti } = begun.started;
      ran.push(ti.taskId);
      await logs.append(message.key, message.tryNumber, [`try ${message.tryNumber} of ${ti.taskId}`, 'done']);
      await finishTry(deps, begun.started, outcome(ti), now);
    }
    return ran;
  }

  /** Passes and work until nothing more is dispatched. */
  async function drain(outcome?: (ti: TaskInstance) => TaskOutcome, maxRounds = 30) {
    for (let round = 0; round < maxRounds; round += 1) {
      await pass();
      const ran = await work(outcome);
      if (ran.length === 0 && dispatched.length === 0) return;
      clock.advance(1000);
    }
  }

  return { app, call, clock, deps, dispatched, drain, events, logs, pass, register, store, work };
}

type ApiHarness = ReturnType<typeof makeApiHarness>;

/** `encodeURIComponent` for path segments (run ids hold `:` and `+`). */
const seg = (s: string) => encodeURIComponent(s);

export { type ApiHarness, makeApiHarness, seg, T0, TOKEN };
