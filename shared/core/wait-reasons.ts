/** Wait reasons in plain words, for the CLI, the console and the simulator report. */
import type { WaitReason } from './model.ts';

/** e.g. "pool etl is full (128/128 slots used; needs 1)". `now` lets times read as "in 4m". */
function describeWaitReason(_reason: WaitReason, _now?: number): string {
  throw new Error('not implemented');
}

export { describeWaitReason };
