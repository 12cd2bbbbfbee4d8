/** `updraft dev`'s mistakes and missing prerequisites: one line each, before anything starts. */
import { execFile } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'cli/bin.mjs');

async function updraft(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', TSX_DISABLE_CACHE: '1', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let busy: Server;
let busyPort: number;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

describe('updraft dev', { timeout: 90_000 }, () => {
  it('says which port is in use and how to choose another, in one line', async () => {
    const result = await updraft([
      'dev',
      '--data',
      join(tmpdir(), 'unused'),
      '--dynamodb-port',
      String(busyPort),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `updraft: port ${busyPort} (DynamoDB Local) is in use: stop what is using it (another updraft dev?) or pass --dynamodb-port <port>`,
    );
  });

  it('says Java is missing and how to install it, in one line', async () => {
    // A PATH with node and nothing else.
    const bin = await mkdtemp(join(tmpdir(), 'no-java-'));
    await symlink(process.execPath, join(bin, 'node'));
    const result = await updraft(
      ['dev', '--data', join(bin, 'data'), '--dynamodb-port', '0', '--aws-port', '0'],
      {
        PATH: bin,
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^updraft: Java not found: DynamoDB Local needs a Java 17 runtime \(apt-get install [^\n]+\)\n$/,
    );
  });

  it('rejects a DAG folder that does not exist with exit 2', async () => {
    const result = await updraft(['dev', '--dags', 'no/such/folder']);
    expect(result).toMatchObject({ code: 2, stderr: 'updraft: --dags no/such/folder: no such folder\n' });
  });
});
