/**
 * `updraft dags deploy <dir>`: bundles each DAG file of a folder with esbuild on this machine (its
 * npm dependencies and relative imports included; the SDK and the AWS SDK come from the runtime),
 * checks that it loads and compiles, uploads the bundle to the deployment's DAG bucket under
 * `dags/` as `<path>.bundle.mjs`, then polls the API until the dag-processor has registered the
 * expected version of each DAG or stored an import error. Loaded only when the command runs.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pc from 'picocolors';
import { loadBundle } from '#adapters/bundle/bundle-loader.ts';
import { buildDagBundle } from '#adapters/bundle/esbuild-bundler.ts';
import { compileDag } from '#core/compile.ts';
import type { DagDefaults } from '#core/dag-defaults.ts';
import { DagValidationError } from '#core/errors.ts';
import { bundleVersion, isDagFile } from '#services/dag-files.ts';
import type { Dag, ImportError, Version } from '../../functions/api/wire.ts';
import type { ApiClient } from '../api/client.ts';
import { type ApiOptions, clientOf, output } from '../api/common.ts';
import { CliError, EXIT } from '../errors.ts';
import { table } from '../format/table.ts';

interface FileResult {
  file: string;
  key: string;
  /** DAG id → expected version. */
  dags: Map<string, string>;
  code: string | null;
  state: 'checked' | 'uploaded' | 'registered' | 'import_error' | 'not_uploaded' | 'no_answer';
  message: string | null;
}

async function dagFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => {
    throw new CliError(`${dir}: no such folder`);
  });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter(
      (path) =>
        !relative(dir, path)
          .split(sep)
          .some((part) => part === 'node_modules' || part.startsWith('.')),
    )
    .filter((path) => isDagFile(relative(dir, path).split(sep).join('/')) && !/\.bundle\.m?js$/.test(path))
    .sort();
}

function describe(error: unknown): string {
  if (error instanceof DagValidationError)
    return error.issues.map((i) => `${i.dagId}: ${i.field}: ${i.message}`).join('; ');
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/**
 * Builds, loads and compiles one file here, as the dag-processor will there: over the deployment's
 * DAG defaults (its /version says them; an older API does not, and had Airflow's).
 */
async function prepare(dir: string, file: string, dagDefaults: DagDefaults | undefined): Promise<FileResult> {
  const rel = relative(dir, file).split(sep).join('/');
  const key = `dags/${rel.replace(/\.(m?ts|m?js)$/, '')}.bundle.mjs`;
  const result: FileResult = {
    file: rel,
    key,
    dags: new Map(),
    code: null,
    state: 'not_uploaded',
    message: null,
  };
  const built = await buildDagBundle(await readFile(file, 'utf8'), rel, undefined, {
    resolveDir: resolve(file, '..'),
  });
  if (!built.ok) return { ...result, message: built.message };
  const loaded = await loadBundle(built.code);
  if (!loaded.ok) return { ...result, message: loaded.message };
  if (loaded.dags.length === 0)
    return { ...result, message: `${rel} exports no DAG (export default dag(...))` };
  try {
    for (const def of loaded.dags)
      result.dags.set(def.dagId, bundleVersion(compileDag(def, dagDefaults).hash, built.code));
  } catch (error) {
    return { ...result, message: describe(error) };
  }
  return { ...result, code: built.code, state: 'checked' };
}

function s3For(client: ApiClient, bucket: NonNullable<Version['dagBucket']>): S3Client {
  const { credentials } = client.connection;
  if (bucket.endpoint)
    return new S3Client({
      endpoint: bucket.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  const region = credentials.type === 'iam' ? credentials.region : process.env.AWS_REGION;
  return new S3Client({ ...(region && { region }) });
}

/** Waits until every uploaded file is registered at its expected versions or has a new import error. */
async function awaitProcessor(client: ApiClient, files: FileResult[], since: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = files.filter((f) => f.state === 'uploaded');
    if (waiting.length === 0) return;
    const [dags, errors] = await Promise.all([
      client.all<Dag>('/dags', { includeInactive: true }),
      client.get<{ items: ImportError[] }>('/importErrors'),
    ]);
    const byId = new Map(dags.map((d) => [d.dagId, d]));
    for (const f of waiting) {
      const error = errors.items.find((e) => e.fileloc === f.key && Date.parse(e.at) >= since);
      if (error) {
        f.state = 'import_error';
        f.message = error.message;
        continue;
      }
      const done = [...f.dags].every(([dagId, version]) => {
        const dag = byId.get(dagId);
        return dag?.fileloc === f.key && dag.currentVersion === version && dag.active;
      });
      if (done) f.state = 'registered';
    }
    if (Date.now() > deadline) {
      for (const f of files.filter((x) => x.state === 'uploaded')) {
        f.state = 'no_answer';
        f.message = `the dag-processor said nothing about ${f.key} in ${Math.round(timeoutMs / 1000)}s: is it running? (its log has the details)`;
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function resultLine(f: FileResult): string[] {
  const dags = [...f.dags.keys()].join(', ');
  switch (f.state) {
    case 'registered':
      return [
        f.file,
        dags,
        pc.green('registered'),
        [...f.dags.values()].map((v) => v.slice(0, 12)).join(', '),
      ];
    case 'checked':
      return [f.file, dags, 'ok (dry run)', ''];
    case 'import_error':
      return [f.file, dags, pc.red('import error'), f.message ?? ''];
    case 'not_uploaded':
      return [f.file, dags, pc.red('not uploaded'), f.message ?? ''];
    default:
      return [f.file, dags, pc.yellow('no answer'), f.message ?? ''];
  }
}

async function deploy(
  dirArg: string,
  options: ApiOptions & { dryRun?: boolean; timeout: string },
): Promise<number> {
  const dir = resolve(dirArg);
  const timeoutMs = Number(options.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new CliError(`--timeout must be seconds > 0, got ${options.timeout}`);
  const paths = await dagFilesUnder(dir);
  if (paths.length === 0)
    throw new CliError(`${dirArg}: no DAG files (.ts, .mts, .js, .mjs not starting with _ or .)`);
  // The deployment first (its DAG defaults decide the versions to expect); a dry run asks nobody.
  const client = options.dryRun ? null : clientOf(options);
  const version = client ? await client.get<Version>('/version') : null;
  const files: FileResult[] = [];
  for (const path of paths) files.push(await prepare(dir, path, version?.dagDefaults));
  if (client && version) {
    if (!version.dagBucket)
      throw new CliError(
        `the deployment at ${client.connection.url} does not say where its DAG bucket is (an older API?)`,
        EXIT.api,
      );
    const health = await client.get<{ time: string }>('/health');
    const since = Date.parse(health.time);
    const s3 = s3For(client, version.dagBucket);
    try {
      for (const f of files.filter((x) => x.state === 'checked')) {
        await s3
          .send(
            new PutObjectCommand({
              Bucket: version.dagBucket.name,
              Key: f.key,
              Body: f.code!,
              ContentType: 'text/javascript',
            }),
          )
          .catch((error: unknown) => {
            throw new CliError(
              `cannot upload ${f.key} to s3://${version.dagBucket!.name} (${describe(error)}): check your AWS credentials`,
              EXIT.unreachable,
            );
          });
        f.state = 'uploaded';
      }
    } finally {
      s3.destroy();
    }
    await awaitProcessor(client, files, since, timeoutMs);
  }
  const ok = files.every((f) => f.state === 'registered' || f.state === 'checked');
  const summary = files.map(({ code: _, dags, ...f }) => ({ ...f, dags: Object.fromEntries(dags) }));
  output(options, { ok, files: summary }, () => {
    const registered = files.filter((f) => f.state === 'registered').length;
    const tail = options.dryRun
      ? `${files.filter((f) => f.state === 'checked').length} of ${files.length} files build, load and compile; nothing uploaded`
      : `${registered} of ${files.length} files registered`;
    return `${table(['file', 'DAGs', 'result', 'version / problem'], files.map(resultLine))}\n${tail}`;
  });
  return ok ? EXIT.ok : EXIT.failed;
}

export { deploy };
