/** What DAG authors import: `import { dag } from 'updraft/sdk'`. */

export type { DagDefinition, DagRuntime } from '#core/definition.ts';
export { isDagDefinition } from '#core/definition.ts';
export type { Duration } from '#core/duration.ts';
export { NonRetryableError, RetryAfterError } from '#core/errors.ts';
export type { ExecutorKind, TriggerRule, WeightRule } from '#core/manifest.ts';
export { type DagBuilder, dag, runtimeOf, type Target, type TaskRef } from './dag.ts';
export type * from './types.ts';
