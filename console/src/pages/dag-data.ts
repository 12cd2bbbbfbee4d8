/**
 * The data of a DAG page, live: its detail, its latest runs and every run's task instances, as one
 * snapshot per poll. A finished run's task instances only change when it is cleared (its state,
 * clear number or end change with it), so they are kept and only unfinished runs are fetched again:
 * one request for the runs plus one per run in flight, not one per column of the grid.
 */
import { useRef } from 'react';
import type { ApiClient } from '../api/client.ts';
import { seg } from '../api/client.ts';
import type { Page, Run, TaskInstance } from '../api/types.ts';
import { isFinishedRun } from '../lib/states.ts';

export interface GridData {
  /** Oldest first (the grid's left column). */
  runs: Run[];
  /** Task instances by run id. */
  tis: Map<string, TaskInstance[]>;
}

async function allPages<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 50; i += 1) {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    if (!page.next) break;
    cursor = page.next;
  }
  return items;
}

function runTis(api: ApiClient, dagId: string, runId: string): Promise<TaskInstance[]> {
  return allPages((cursor) =>
    api.get<Page<TaskInstance>>(`/dags/${seg(dagId)}/runs/${seg(runId)}/taskInstances`, {
      limit: 1000,
      cursor,
    }),
  );
}

const signature = (r: Run) => `${r.state}|${r.clearNumber}|${r.endedAt ?? ''}|${r.dagVersion}`;

/** Runs a few requests at a time (a loaded laptop, or Lambda concurrency, should not see 25 at once). */
async function mapLimited<T, U>(items: T[], limit: number, fn: (item: T) => Promise<U>): Promise<U[]> {
  const out: U[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A fetcher for usePoll, with the cache of finished runs' task instances it keeps between polls. */
function useGridFetcher(api: ApiClient, dagId: string, limit: number): () => Promise<GridData> {
  const cache = useRef(new Map<string, { sig: string; tis: TaskInstance[] }>());
  const cacheDag = useRef(dagId);
  if (cacheDag.current !== dagId) {
    cache.current = new Map();
    cacheDag.current = dagId;
  }
  return async () => {
    const page = await api.get<Page<Run>>(`/dags/${seg(dagId)}/runs`, { limit });
    const runs = [...page.items].reverse();
    const known = cache.current;
    const lists = await mapLimited(runs, 6, async (run) => {
      const hit = known.get(run.runId);
      if (hit && hit.sig === signature(run) && isFinishedRun(run.state)) return hit.tis;
      const tis = await runTis(api, dagId, run.runId);
      known.set(run.runId, { sig: signature(run), tis });
      return tis;
    });
    const tis = new Map<string, TaskInstance[]>();
    for (const [i, run] of runs.entries()) tis.set(run.runId, lists[i]!);
    for (const runId of known.keys()) if (!tis.has(runId)) known.delete(runId);
    return { runs, tis };
  };
}

export { allPages, runTis, useGridFetcher };
