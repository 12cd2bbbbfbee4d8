/**
 * The dag-processor: a DAG file created, changed or deleted under `dags/` (S3 notification) →
 * build, validate and register it, or store its import error; a deleted file deactivates its DAGs.
 */

import middy from '@middy/core';
import type { Context, S3Event } from 'aws-lambda';
import { type DagFileDeps, processDagFile, removeDagFile } from '#services/dag-files.ts';
import { functionLogger } from '../common/logger.ts';
import { loadConfig } from './config.ts';
import { awsDagProcessorDeps } from './deps.ts';
import { dagObjectEvents } from './objects.ts';

export interface DagProcessorDeps extends DagFileDeps {
  clock: { now(): number };
  /** The current source of a DAG file (an object under `dags/`), null when it is gone. */
  readDagFile(key: string): Promise<string | null>;
}

export const createHandler = (deps: DagProcessorDeps) =>
  middy<S3Event>().handler(async (event) => {
    const results = [];
    for (const { key, change } of dagObjectEvents(event)) {
      const source = change === 'created' ? await deps.readDagFile(key) : null;
      const now = deps.clock.now();
      const result =
        source !== null
          ? await processDagFile(deps, { fileloc: key, source, now })
          : { kind: 'removed' as const, ...(await removeDagFile(deps, { fileloc: key, now })) };
      deps.logger.info('DAG file processed', { key, change, result: result.kind });
      results.push({ key, ...result });
    }
    return results;
  });

let cached: ReturnType<typeof createHandler> | undefined;

/** The Lambda entry point: dependencies built once per cold start, on first use. */
export const handler = (event: S3Event, context: Context) => {
  cached ??= createHandler(awsDagProcessorDeps(loadConfig(process.env), functionLogger('dag-processor')));
  return cached(event, context);
};
