/**
 * The `Updraft` construct's props, their defaults (right for a small team: nothing billed while
 * idle beyond storage) and their checks. A bad prop fails the synth with a message naming it.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { ContainerImage, ICluster } from 'aws-cdk-lib/aws-ecs';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type DagDefaults, resolveDagDefaults } from '../shared/core/dag-defaults.ts';
import { DEFAULT_SETTINGS } from '../shared/core/model.ts';
import { FUNCTIONS, QUEUES } from '../shared/resources.ts';

/** How the HTTP API authenticates callers (docs/api.md). */
export type ApiAuth =
  /** SigV4-signed requests by IAM principals allowed `execute-api:Invoke` (the CLI, scripts). */
  | { mode: 'IAM' }
  /** `Authorization: Bearer <jwt>` from Cognito or any OIDC issuer. */
  | { mode: 'JWT'; issuer: string; audience: string[] };

export interface WorkerProps {
  /** @default 1024 */
  memoryMiB?: number;
  /** A try the invocation cannot finish is not started; at most 15 minutes. @default Duration.minutes(15) */
  timeout?: Duration;
  /**
   * Airflow's worker concurrency: how many tries may be queued or running on Lambda at once (the
   * claim enforces it; the dispatch event source runs that many invocations at most).
   * @default unbounded (only `parallelism` and the pools limit it)
   */
  maxConcurrency?: number;
  /** Functions `lambdaInvoke` tasks may call (the worker gets `lambda:InvokeFunction` on them only). @default none */
  invokableFunctions?: IFunction[];
  /**
   * Airflow's `schedule_after_task_execution`: the worker that ends a try of a task with downstream
   * tasks runs the scheduler's pass for it itself (claims and dispatches the downstream), instead
   * of a `task_finished` event through SQS and a scheduler invocation. @default true
   */
  scheduleAfterTaskExecution?: boolean;
}

export interface SchedulerProps {
  /**
   * The scheduler function's memory (the sweep runs in it too): a pass is a few store round trips
   * in series, so CPU is a small part of its time (docs/deploy.md "Function memory"). @default 512
   */
  memoryMiB?: number;
}

export interface FargateProps {
  /** @default a new cluster in `vpc` */
  cluster?: ICluster;
  /** @default a new VPC: two public subnets, no NAT gateway (nothing billed while idle) */
  vpc?: IVpc;
  /** Where tasks run. @default the VPC's public subnets */
  subnets?: SubnetSelection;
  /** Give tasks a public IP (to pull images and reach AWS without a NAT gateway). @default true when the subnets are public */
  assignPublicIp?: boolean;
  /** The image shell and container tasks run in. @default Amazon Linux 2023 from ECR Public */
  image?: ContainerImage;
  /** @default 256 (.25 vCPU) */
  cpu?: number;
  /** @default 512 */
  memoryMiB?: number;
}

/**
 * The deployment's defaults for DAG limits and task retries (Airflow's `[core]` knobs of the same
 * meaning). A DAG's own options, its `defaultArgs` and a task's options win over them. They apply to
 * DAG files processed after a deployment changes them (a new version of each); upload the others
 * again (`updraft dags deploy`) to apply them there.
 */
export interface DagDefaultsProps {
  /** Runs of a DAG queued or running at once (`max_active_runs_per_dag`). @default 16 */
  maxActiveRuns?: number;
  /** Task instances of one DAG run queued or running at once (`max_active_tasks_per_dag`). @default 16 */
  maxActiveTasks?: number;
  /** Failed runs in a row that pause a DAG; 0 = never (`max_consecutive_failed_dag_runs_per_dag`). @default 0 */
  maxConsecutiveFailedDagRuns?: number;
  /** Retries of a task (`default_task_retries`). @default 0 */
  retries?: number;
  /** Wait before a retry (`default_task_retry_delay`). @default Duration.minutes(5) */
  retryDelay?: Duration;
  /** Longest a try may run; null = no limit (`default_task_execution_timeout`). @default null */
  executionTimeout?: Duration | null;
}

export interface UpdraftProps {
  /**
   * Pools and their slots (-1 = unlimited), applied at each deployment: a pool is created when
   * absent and resized when its number here changes; other pools, and sizes set later in the
   * console or API, are kept. `default_pool` always exists (128 slots unless resized here).
   * @default none beyond default_pool
   */
  pools?: Record<string, number>;
  /** Global limit on queued + running task instances (Airflow's `parallelism`). @default 32 */
  parallelism?: number;
  /** Defaults of DAG limits and task retries, under every DAG's own options. @default Airflow's */
  dagDefaults?: DagDefaultsProps;
  worker?: WorkerProps;
  scheduler?: SchedulerProps;
  /** Fargate for `executor: 'fargate'` tasks; `false` leaves ECS out (such tries fail and say so). @default created */
  fargate?: FargateProps | false;
  /** An existing bucket for DAGs, bundles, logs and results. @default a new bucket */
  dagBucket?: IBucket;
  /** Where alarms are sent. @default a new topic (subscribe to it) */
  alarmTopic?: ITopic;
  /** Where `task_failed` and `run_failed` notifications are published. @default a new topic */
  notificationsTopic?: ITopic;
  /** @default { mode: 'IAM' } */
  apiAuth?: ApiAuth;
  /** What happens to the table and a created bucket when the stack is deleted. @default RemovalPolicy.RETAIN */
  removalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection on the table. @default true unless removalPolicy is DESTROY */
  deletionProtection?: boolean;
  /**
   * Items per hot counter (global, each pool, each executor) in the DynamoDB store: one item takes
   * about 500 claims and try ends a second (docs/state-store.md). Raise it freely; lowering it
   * strands what the dropped shards hold until they drain. @default 1
   */
  counterShards?: number;
  /** Host the console (private S3 bucket + CloudFront). @default true */
  console?: boolean;
  /** How long function logs are kept. @default RetentionDays.ONE_MONTH */
  logRetention?: RetentionDays;
}

/** The props with every default filled in. */
export interface ResolvedProps {
  pools: Record<string, number>;
  parallelism: number;
  dagDefaults: DagDefaults;
  worker: {
    memoryMiB: number;
    timeout: Duration;
    maxConcurrency: number | null;
    invokableFunctions: IFunction[];
    scheduleAfterTaskExecution: boolean;
  };
  scheduler: { memoryMiB: number };
  fargate:
    | {
        cluster?: ICluster;
        vpc?: IVpc;
        subnets?: SubnetSelection;
        assignPublicIp?: boolean;
        image?: ContainerImage;
        cpu: number;
        memoryMiB: number;
      }
    | false;
  dagBucket?: IBucket;
  alarmTopic?: ITopic;
  notificationsTopic?: ITopic;
  apiAuth: ApiAuth;
  removalPolicy: RemovalPolicy;
  deletionProtection: boolean;
  counterShards: number;
  console: boolean;
  logRetention: RetentionDays;
}

class UpdraftPropsError extends Error {
  override name = 'UpdraftPropsError';
  constructor(field: string, message: string) {
    super(`Updraft props: ${field} ${message}`);
  }
}

function wholeAtLeast(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new UpdraftPropsError(field, `must be a whole number ≥ ${min}`);
  return value;
}

const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/** The DAG defaults in ms, checked as compileDag checks a DAG's options (same rules, same words). */
function resolveDagDefaultsProp(props: DagDefaultsProps | undefined): DagDefaults {
  if (props === undefined) return resolveOrThrow(undefined);
  const { retryDelay, executionTimeout, ...limits } = props;
  return resolveOrThrow({
    ...limits,
    ...(retryDelay !== undefined && { retryDelay: retryDelay.toMilliseconds() }),
    ...(executionTimeout !== undefined && {
      executionTimeout: executionTimeout === null ? null : executionTimeout.toMilliseconds(),
    }),
  });
}

function resolveOrThrow(input: unknown): DagDefaults {
  const resolved = resolveDagDefaults(input, 'dagDefaults');
  if (!resolved.ok) {
    const first = resolved.issues[0]!;
    throw new UpdraftPropsError(first.field, first.message);
  }
  return resolved.defaults;
}

function resolveProps(props: UpdraftProps = {}): ResolvedProps {
  const pools = { ...props.pools };
  for (const [name, slots] of Object.entries(pools)) {
    if (!/^[A-Za-z0-9_.-]{1,250}$/.test(name))
      throw new UpdraftPropsError(`pools.${name}`, 'is not a pool name: 1–250 letters, digits, _ . or -');
    if (slots !== -1) wholeAtLeast(`pools.${name}`, slots, 0);
  }
  const timeout = props.worker?.timeout ?? Duration.seconds(FUNCTIONS.worker.timeoutSeconds);
  const timeoutSeconds = timeout.toSeconds();
  if (timeoutSeconds < 60 || timeoutSeconds > LAMBDA_MAX_TIMEOUT_SECONDS)
    throw new UpdraftPropsError(
      'worker.timeout',
      'must be between 1 and 15 minutes (longer tasks: executor fargate)',
    );
  // The dispatch queue hides a message for 6 × the longest worker timeout (resources.ts).
  if (QUEUES.dispatch.visibilityTimeoutSeconds < 6 * timeoutSeconds)
    throw new UpdraftPropsError('worker.timeout', 'is longer than the dispatch queue allows');
  const maxConcurrency = props.worker?.maxConcurrency;
  if (maxConcurrency !== undefined) wholeAtLeast('worker.maxConcurrency', maxConcurrency, 1);
  const fargate =
    props.fargate === false
      ? false
      : {
          ...props.fargate,
          cpu: props.fargate?.cpu ?? 256,
          memoryMiB: props.fargate?.memoryMiB ?? 512,
        };
  if (props.apiAuth?.mode === 'JWT') {
    if (!/^https:\/\//.test(props.apiAuth.issuer))
      throw new UpdraftPropsError('apiAuth.issuer', 'must be an https URL');
    if (props.apiAuth.audience.length === 0)
      throw new UpdraftPropsError('apiAuth.audience', 'must name at least one audience');
  }
  const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
  return {
    pools,
    parallelism: wholeAtLeast('parallelism', props.parallelism ?? DEFAULT_SETTINGS.parallelism, 1),
    dagDefaults: resolveDagDefaultsProp(props.dagDefaults),
    worker: {
      memoryMiB: wholeAtLeast('worker.memoryMiB', props.worker?.memoryMiB ?? FUNCTIONS.worker.memoryMiB, 128),
      timeout,
      maxConcurrency: maxConcurrency ?? null,
      invokableFunctions: props.worker?.invokableFunctions ?? [],
      scheduleAfterTaskExecution: props.worker?.scheduleAfterTaskExecution ?? true,
    },
    scheduler: {
      memoryMiB: wholeAtLeast(
        'scheduler.memoryMiB',
        props.scheduler?.memoryMiB ?? FUNCTIONS.scheduler.memoryMiB,
        128,
      ),
    },
    fargate,
    ...(props.dagBucket && { dagBucket: props.dagBucket }),
    ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
    ...(props.notificationsTopic && { notificationsTopic: props.notificationsTopic }),
    apiAuth: props.apiAuth ?? { mode: 'IAM' },
    removalPolicy,
    deletionProtection: props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY,
    counterShards: wholeAtLeast('counterShards', props.counterShards ?? 1, 1),
    console: props.console ?? true,
    logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
  };
}

export { resolveProps, UpdraftPropsError };
