/**
 * Object keys of the Updraft bucket. Each name is one key segment: `%` and `/` are escaped so that a
 * run id with a slash cannot reach into another prefix, and every other character stays readable.
 *
 * | prefix                                                         | holds                         |
 * | -------------------------------------------------------------- | ----------------------------- |
 * | `dags/`                                                        | DAG source files (uploads)    |
 * | `bundles/<dagId>/<version>.mjs`                                | a built DAG bundle            |
 * | `logs/<dagId>/<runId>/<taskId>/<mapIndex>/<try>/<chunk>.log`   | one appended chunk of a log   |
 * | `results/<dagId>/<runId>/<taskId>/<mapIndex>/<try>.json`        | a result too large for the item |
 */
import type { TiKey } from '#core/model.ts';

const DAGS_PREFIX = 'dags/';

function segment(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('/', '%2F');
}

function bundleKey(dagId: string, version: string): string {
  return `bundles/${segment(dagId)}/${segment(version)}.mjs`;
}

/** The prefix under which the chunks of one try's log are listed (ends with `/`). */
function logPrefix(key: TiKey, tryNumber: number): string {
  const { dagId, runId, taskId, mapIndex } = key;
  return `logs/${segment(dagId)}/${segment(runId)}/${segment(taskId)}/${mapIndex}/${tryNumber}/`;
}

/**
 * A chunk's name sorts in append order: milliseconds, then a per-writer sequence for appends in the
 * same millisecond, then a random tail so that two writers never overwrite each other.
 */
function logChunkKey(prefix: string, at: number, sequence: number, random: string): string {
  return `${prefix}${String(at).padStart(15, '0')}-${String(sequence).padStart(9, '0')}-${random}.log`;
}

/** Where the result of one try is kept when it is too large for the task-instance item. */
function resultKey(key: TiKey, tryNumber: number): string {
  const { dagId, runId, taskId, mapIndex } = key;
  return `results/${segment(dagId)}/${segment(runId)}/${segment(taskId)}/${mapIndex}/${tryNumber}.json`;
}

export { bundleKey, DAGS_PREFIX, logChunkKey, logPrefix, resultKey, segment };
