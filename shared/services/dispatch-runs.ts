/**
 * The runs a claim pass's dispatch messages carry (`DispatchMessage.run`), so a worker need not read
 * its try's run: a read per run per pass instead of one per try. Taken from the runs the pass has
 * already read (its looks read the runs they evaluate); a run it has not is read once per pass,
 * eventually consistent (the fields carried never change in a run's life), beside the claim that
 * needs it. A run that cannot be had this way — not found, finished as read, of another DAG version
 * than the instance, or with a conf too large to carry — is left out of the message, and the
 * worker reads it itself (and hands the try back if the run has finished).
 */
import type { DagRun, TiKey } from '#core/model.ts';
import type { DispatchedRun } from '#ports';
import type { ServiceDeps } from './deps.ts';

/** A conf longer than this as JSON is not carried (ten messages to a send, each well under SQS's 256 KB). */
const MAX_CONF_CHARS = 4096;

const runKey = (key: { dagId: string; runId: string }) => `${key.dagId}/${key.runId}`;

/**
 * What the message of a try of an instance of `dagVersion` carries of `run`; null when it carries
 * nothing (the worker reads the run).
 */
function dispatchedRun(run: DagRun | null, dagVersion: string): DispatchedRun | null {
  if (run?.state !== 'running' || run.dagVersion !== dagVersion) return null;
  if (JSON.stringify(run.conf).length > MAX_CONF_CHARS) return null;
  return {
    logicalDate: run.logicalDate,
    dataIntervalStart: run.dataIntervalStart,
    dataIntervalEnd: run.dataIntervalEnd,
    conf: run.conf,
    startedAt: run.startedAt,
  };
}

class DispatchRuns {
  readonly #deps: ServiceDeps;
  /** By `dagId/runId`: the run as read, with its DAG version. */
  readonly #runs = new Map<string, Promise<DagRun | null>>();

  /** `known`: runs this pass has read already. */
  constructor(deps: ServiceDeps, known: Iterable<DagRun> = []) {
    this.#deps = deps;
    for (const run of known) this.#runs.set(runKey(run), Promise.resolve(run));
  }

  /** Starts reading the runs of `keys` not had yet (a failed read: the messages go without the run). */
  want(keys: readonly TiKey[]): void {
    for (const key of keys) {
      const id = runKey(key);
      if (this.#runs.has(id)) continue;
      const read = this.#deps.store.getRun(key.dagId, key.runId, { consistent: false }).catch(() => null);
      this.#runs.set(id, read);
    }
  }

  /** What the message of a try of `key` (an instance of `dagVersion`) carries; null: nothing. */
  async of(key: TiKey, dagVersion: string): Promise<DispatchedRun | null> {
    return dispatchedRun((await this.#runs.get(runKey(key))) ?? null, dagVersion);
  }
}

export { DispatchRuns, dispatchedRun, MAX_CONF_CHARS };
