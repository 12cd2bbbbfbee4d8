/**
 * The Lambda functions as `NodejsFunction`s, one per definition in shared/resources.ts (entry,
 * timeout, memory, the environment it reads), bundled by the local esbuild (never Docker) into
 * ESM for Node 22 on arm64.
 */
import path from 'node:path';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV, type EnvKey, type FunctionDefinition } from '../shared/resources.ts';
import { acknowledge } from './nag.ts';

/** The repository root: entries in resources.ts are relative to it. */
const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * Modules left out of every bundle: the AWS SDK (the Node 22 runtime has it) and esbuild, which
 * the DAG bundler imports dynamically (native locally; the dag-processor ships esbuild-wasm).
 */
const EXTERNAL_MODULES = ['@aws-sdk/*', 'esbuild', 'esbuild-wasm'];

/** ESM bundles of CommonJS dependencies call `require` for Node's built-ins. */
const ESM_BANNER =
  "import { createRequire as __updraftCreateRequire } from 'node:module'; const require = __updraftCreateRequire(import.meta.url);";

export interface FunctionOptions {
  /** The values of the environment variables the definition lists; a listed key without one is left out. */
  env: Partial<Record<EnvKey, string>>;
  /** Variables beyond the shared ones (e.g. API_AUTH_MODE's value is in `env`; these are extra). */
  extraEnv?: Record<string, string>;
  memoryMiB?: number;
  timeout?: Duration;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

function createFunction(
  scope: Construct,
  id: string,
  def: FunctionDefinition,
  opts: FunctionOptions,
): NodejsFunction {
  const environment: Record<string, string> = { NODE_OPTIONS: '--enable-source-maps', ...opts.extraEnv };
  for (const key of def.env) {
    const value = opts.env[key];
    if (value !== undefined) environment[ENV[key]] = value;
  }
  const logGroup = new LogGroup(scope, `${id}Logs`, {
    retention: opts.logRetention,
    removalPolicy: opts.removalPolicy,
  });
  const fn = new NodejsFunction(scope, id, {
    entry: path.join(ROOT, def.entry),
    handler: 'handler',
    projectRoot: ROOT,
    depsLockFilePath: path.join(ROOT, 'package-lock.json'),
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: opts.memoryMiB ?? def.memoryMiB,
    timeout: opts.timeout ?? Duration.seconds(def.timeoutSeconds),
    environment,
    logGroup,
    loggingFormat: LoggingFormat.JSON,
    tracing: Tracing.ACTIVE,
    bundling: {
      forceDockerBundling: false,
      format: OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: ESM_BANNER,
      minify: true,
      keepNames: true,
      sourceMap: true,
      externalModules: EXTERNAL_MODULES,
      ...(def.nodeModules && { nodeModules: [...def.nodeModules] }),
    },
  });
  acknowledge(
    fn,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'the managed basic execution role only lets the function write its own logs',
  );
  acknowledge(
    fn,
    'AwsSolutions-IAM5[Resource::*]',
    'active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions',
  );
  acknowledge(
    fn,
    'AwsSolutions-L1',
    'Node.js 22 on purpose: the runtime the functions are built and tested for (bundling target node22)',
  );
  return fn;
}

export { createFunction, EXTERNAL_MODULES, ROOT };
