/**
 * `updraft dev` (= `npm start`): the whole system on this machine, on the code paths it runs in AWS
 * (cli/dev/stack.ts), with a watcher that uploads the DAG folder's files as they change.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pc from 'picocolors';
import { z } from 'zod';
import { listDagObjects } from '#adapters/s3/dag-objects.ts';
import { parseDuration } from '#core/duration.ts';
import { QUEUES } from '../../shared/resources.ts';
import { consoleBuilt, ensureConsoleBuilt } from '../dev/console-files.ts';
import { DagFolderSync } from '../dev/dag-sync.ts';
import { devLogger } from '../dev/dev-logger.ts';
import { devRequestHandler, newApiToken } from '../dev/http.ts';
import { type LocalStack, startLocalStack } from '../dev/stack.ts';
import { CliError, EXIT, zodLine } from '../errors.ts';
import { readDagDefaults } from './dag-defaults-file.ts';

interface DevOptions {
  dags: string;
  data: string;
  dynamodbPort: string;
  awsPort: string;
  port: string;
  sweep: string;
  pools: string;
  dagDefaults?: string;
  keepPaused?: boolean;
  verbose?: boolean;
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new CliError(`${flag} must be a port number, got ${value}`);
  return n;
}

function summary(
  stack: LocalStack,
  opts: DevOptions,
  api: { token: string; tokenFile: string; console: boolean },
): string {
  const q = (id: keyof typeof QUEUES) => `${stack.names.queues[id].url.split('/').at(-1)} (+ DLQ)`;
  const rows = [
    ['DynamoDB Local', stack.endpoints.dynamodb, `table ${stack.names.table}, data in ${opts.data}`],
    ['SQS + S3', stack.endpoints.aws, `fauxqs in this process; bucket ${stack.names.bucket}`],
    ['scheduler', `queue ${q('schedulerEvents')}`, `and wake-up timers; sweep every ${opts.sweep}`],
    [
      'worker',
      `queue ${q('dispatch')}`,
      `${stack.concurrency.worker} batches of ${QUEUES.dispatch.batchSize} at once`,
    ],
    ['dag-processor', `${stack.names.bucket}/dags/`, `DAG files uploaded from ${opts.dags}`],
    ['task-events', 'container exits', 'Fargate tries run as subprocesses'],
    ['API', `${stack.endpoints.http ?? '-'}/api/v1`, `OpenAPI at /api/openapi.json; GET /health`],
  ];
  const consoleUrl = `${stack.endpoints.http}/#token=${encodeURIComponent(api.token)}`;
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return [
    pc.bold('updraft dev') + pc.dim(' — the functions run in this process on the local emulators'),
    ...rows.map(([what, where, note]) => `  ${what!.padEnd(width)}  ${pc.cyan(where!)}  ${pc.dim(note!)}`),
    `  ${'token'.padEnd(width)}  ${pc.bold(api.token)}  ${pc.dim(`Authorization: Bearer <token> (also in ${api.tokenFile})`)}`,
    api.console
      ? `  ${'console'.padEnd(width)}  ${pc.bold(pc.cyan(consoleUrl))}  ${pc.dim('open it: signed in, live')}`
      : `  ${'console'.padEnd(width)}  ${pc.yellow('not built')}  ${pc.dim('npm run build:console, then restart')}`,
    pc.dim('  Ctrl-C stops everything; history is kept in the data folder.'),
  ].join('\n');
}

const Pools = z.record(z.string().min(1), z.number().int().min(-1));

async function readPools(file: string): Promise<Record<string, number>> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = Pools.safeParse(json);
  if (!parsed.success) throw new CliError(zodLine(parsed.error, file));
  return parsed.data;
}

async function runDev(opts: DevOptions): Promise<void> {
  // Local runs are on Node 20 by design (Lambda runs 22): the SDK's notice about it is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dagsDir = resolve(opts.dags);
  if (!existsSync(dagsDir) || !statSync(dagsDir).isDirectory())
    throw new CliError(`--dags ${opts.dags}: no such folder`);
  const sweep = parseDuration(opts.sweep);
  if (!sweep.ok || sweep.ms < 1_000)
    throw new CliError(`--sweep must be a duration of at least 1s, got ${opts.sweep}`);
  const pools = await readPools(opts.pools);
  const dagDefaults = await readDagDefaults(opts.dagDefaults);
  const logger = (service: string) => devLogger(service, { verbose: opts.verbose });
  // The API's bearer token: fresh each start unless UPDRAFT_API_TOKEN fixes it; the CLI reads the file.
  const token = process.env.UPDRAFT_API_TOKEN?.trim() || newApiToken();
  const tokenFile = join(opts.data, 'api-token');
  const taskLog = devLogger('task');
  // Ctrl-C from the very start: while starting, it stops what has started, then exits.
  let interrupted: (() => void) | null = null;
  let stopRequested = false;
  const onSignal = () => {
    if (stopRequested) {
      console.log(pc.red('stopping now'));
      process.exit(130);
    }
    stopRequested = true;
    console.log(pc.dim('\nstopping (Ctrl-C again to force)…'));
    interrupted?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A fresh clone has no console/dist, a pull or an edit makes it stale: build it (a few seconds).
  await ensureConsoleBuilt(() => console.log(pc.dim('building the console (console/dist)…'))).catch(
    (error: unknown) =>
      console.log(pc.yellow(`the console did not build, serving the API only: ${(error as Error).message}`)),
  );
  console.log(pc.dim('starting DynamoDB Local, the SQS/S3 emulator and the functions…'));
  const stack = await startLocalStack({
    dataDir: opts.data,
    dynamodbPort: port(opts.dynamodbPort, '--dynamodb-port'),
    awsPort: port(opts.awsPort, '--aws-port'),
    sweepEveryMs: sweep.ms,
    pools,
    settings: { dagDefaults },
    unpauseNew: !opts.keepPaused,
    logger,
    onTaskLog: (t, line) => taskLog.info(`${pc.dim(`[${t.dagId}.${t.taskId} #${t.tryNumber}]`)} ${line}`),
    http: { port: port(opts.port, '--port'), handler: devRequestHandler({ token, logger: logger('api') }) },
  }).catch((error: unknown) => {
    // A missing Java or an emulator that does not start: what to do is in the message.
    if (error instanceof Error && error.name === 'EmulatorError')
      throw new CliError(error.message, EXIT.failed);
    throw error;
  });
  const watcherLog = logger('watcher');
  const sync = new DagFolderSync(dagsDir, {
    list: async () =>
      (await listDagObjects(stack.clients.s3, stack.names.bucket)).map((o) => o.key.slice('dags/'.length)),
    upload: async (name, source) => {
      watcherLog.info(`uploading ${name}`);
      await stack.putDagFile(name, source);
    },
    remove: async (name) => {
      watcherLog.info(`removing ${name}`);
      await stack.deleteDagFile(name);
    },
    onError: (name, error) =>
      watcherLog.error(`${name}: ${error instanceof Error ? error.message : String(error)}`),
  });
  const stopped = new Promise<void>((resolve) => {
    interrupted = resolve;
  });
  await mkdir(opts.data, { recursive: true });
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  // Where the other commands find this stack's API (with the token beside it).
  if (stack.endpoints.http) await writeFile(join(opts.data, 'api-url'), `${stack.endpoints.http}\n`);
  if (!stopRequested) {
    console.log(summary(stack, opts, { token, tokenFile, console: consoleBuilt() }));
    const files = await sync.start();
    watcherLog.info(`watching ${opts.dags} (${files.length} DAG files)`);
    await stopped;
  }
  await sync.stop();
  await stack.stop();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  console.log(pc.dim('stopped'));
}

export { type DevOptions, runDev };
