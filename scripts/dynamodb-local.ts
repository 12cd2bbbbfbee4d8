/**
 * DynamoDB Local, the official emulator, obtained by the project itself: its jar ships inside the
 * npm package amplify-dynamodb-simulator, which cannot be installed normally (its dependencies are
 * missing from the registry), so it is fetched with `npm pack` into `.updraft/cache/` and unpacked.
 * Tests (test/setup/dynamodb.global-setup.ts), the benchmarks and `updraft dev` start it with Java 17.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PACKAGE = 'amplify-dynamodb-simulator@2.9.30';
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(PROJECT_ROOT, '.updraft/cache/dynamodb-local');

class EmulatorError extends Error {
  override name = 'EmulatorError';
}

/** Folder holding DynamoDBLocal.jar and DynamoDBLocal_lib/, fetched on first use. */
async function ensureDynamoDbLocalJar(cache = CACHE): Promise<string> {
  const jar = join(cache, 'DynamoDBLocal.jar');
  if (existsSync(jar) && existsSync(join(cache, 'DynamoDBLocal_lib'))) return cache;
  const staging = `${cache}.staging-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    await run('npm', ['pack', PACKAGE, '--pack-destination', staging, '--silent'], {
      cwd: staging,
      maxBuffer: 1 << 24,
    });
    const tarball = (await readdir(staging)).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new EmulatorError(`npm pack ${PACKAGE} produced no tarball`);
    await run('tar', ['-xzf', tarball, '--strip-components=2', 'package/emulator'], { cwd: staging });
    await rm(join(staging, tarball));
    await rm(cache, { recursive: true, force: true });
    await mkdir(dirname(cache), { recursive: true });
    await run('mv', [staging, cache]);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new EmulatorError(`cannot fetch DynamoDB Local (${PACKAGE}) with npm pack: ${why}`);
  }
  return cache;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function javaAvailable(): Promise<boolean> {
  try {
    await run('java', ['-version']);
    return true;
  } catch {
    return false;
  }
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** A free port is picked when absent. */
  port?: number;
  /** Keep everything in memory (the default); false stores it in `dbPath`. */
  inMemory?: boolean;
  /** Folder for the database files when not in memory (kept across restarts). */
  dbPath?: string;
  /** How long to wait for the emulator to answer. @default 30_000 */
  timeoutMs?: number;
}

/** Starts DynamoDB Local; ready when `GET /` answers 400 (its reply to a request without an action). */
async function startDynamoDbLocal(opts: StartOptions = {}): Promise<DynamoDbLocal> {
  const inMemory = opts.inMemory ?? opts.dbPath === undefined;
  if (!inMemory && !opts.dbPath) {
    throw new EmulatorError('DynamoDB Local: dbPath is required when inMemory is false');
  }
  if (!(await javaAvailable())) {
    throw new EmulatorError(
      'Java not found: DynamoDB Local needs a Java 17 runtime (apt-get install -y openjdk-17-jre-headless)',
    );
  }
  const dir = await ensureDynamoDbLocalJar();
  const port = opts.port ?? (await freePort());
  const storage = inMemory ? ['-inMemory'] : ['-dbPath', resolve(opts.dbPath!)];
  if (!inMemory) await mkdir(resolve(opts.dbPath!), { recursive: true });
  const child: ChildProcess = spawn(
    'java',
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      ...storage,
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    // cwd: DynamoDB Local writes a metadata file into its working directory.
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  // If this process exits without stopping it (a crash, Ctrl-C while starting), the JVM goes too.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) {
      const hint = /Address already in use|BindException/.test(stderr)
        ? ` (port ${port} is in use: choose another)`
        : '';
      throw new EmulatorError(
        `DynamoDB Local exited with code ${child.exitCode}${hint}: ${stderr.trim().split('\n').at(-1) ?? ''}`,
      );
    }
    try {
      const response = await fetch(`${endpoint}/`);
      if (response.status === 400) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new EmulatorError(
        `DynamoDB Local did not answer on ${endpoint} within ${(opts.timeoutMs ?? 30_000) / 1000} s`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    port,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export { EmulatorError, ensureDynamoDbLocalJar, startDynamoDbLocal };
