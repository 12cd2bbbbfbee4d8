/** The console on the dev server: served beside the API, rebuilt when missing or older than its sources. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { consoleStale, mountConsole } from '../../../cli/dev/console-files.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A console folder with one source file and, optionally, a build of a given age. */
function consoleFolder(opts: { built?: 'older' | 'newer' } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'console-'));
  dirs.push(root);
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'main.tsx'), 'export {};');
  const sourceTime = new Date('2026-01-05T10:00:00Z');
  utimesSync(join(root, 'src', 'main.tsx'), sourceTime, sourceTime);
  if (opts.built) {
    mkdirSync(join(root, 'dist', 'assets'), { recursive: true });
    writeFileSync(join(root, 'dist', 'index.html'), '<!doctype html><title>Updraft</title>');
    writeFileSync(join(root, 'dist', 'assets', 'app.js'), 'console.log(1)');
    const built = new Date(sourceTime.getTime() + (opts.built === 'newer' ? 60_000 : -60_000));
    utimesSync(join(root, 'dist', 'index.html'), built, built);
  }
  return root;
}

describe('consoleStale', () => {
  it('says a clone without console/dist needs a build', () => {
    expect(consoleStale(consoleFolder())).toBe(true);
  });

  it('says a build older than a source file needs a build, and a newer one does not', () => {
    expect(consoleStale(consoleFolder({ built: 'older' }))).toBe(true);
    expect(consoleStale(consoleFolder({ built: 'newer' }))).toBe(false);
  });
});

describe('mountConsole', () => {
  it('serves index.html at /, its assets and a local config.json, and leaves /api/ to the API', async () => {
    // Prepare
    const root = consoleFolder({ built: 'newer' });
    const app = new Hono();
    app.get('/api/v1/health', (c) => c.json({ status: 'ok' }));
    // Act
    const mounted = mountConsole(app, join(root, 'dist'));
    // Assess
    expect(mounted).toBe(true);
    const index = await app.request('/');
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>Updraft</title>');
    expect(await (await app.request('/assets/app.js')).text()).toBe('console.log(1)');
    expect(await (await app.request('/config.json')).json()).toEqual({ apiUrl: '/', authMode: 'TOKEN' });
    expect(await (await app.request('/api/v1/health')).json()).toEqual({ status: 'ok' });
    expect((await app.request('/api/v1/nope')).status).toBe(404);
  });

  it('serves nothing when the console is not built', () => {
    expect(mountConsole(new Hono(), join(consoleFolder(), 'dist'))).toBe(false);
  });
});
