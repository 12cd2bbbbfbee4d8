/**
 * The web console on the dev server: the files `npm run build:console` writes to console/dist,
 * served at `/` beside the API (`/api/…`). The console uses hash routes (`/#/dags/etl`), so `/`
 * (index.html) and its assets are all there is to serve; anything under `/api/` is the API's.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

const CONSOLE_ROOT = fileURLToPath(new URL('../../console', import.meta.url));
/** Where the build puts the console (the CDK deploys the same folder to S3 + CloudFront). */
const CONSOLE_DIST = join(CONSOLE_ROOT, 'dist');

function consoleBuilt(dir = CONSOLE_DIST): boolean {
  return existsSync(join(dir, 'index.html'));
}

/** The newest modification time of the console's sources (src/, index.html, public/, its config). */
function newestSource(root = CONSOLE_ROOT): number {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const name of ['src', 'public', 'index.html', 'vite.config.ts'])
    if (existsSync(join(root, name))) visit(join(root, name));
  return newest;
}

/** Whether console/dist is missing or older than its sources (a fresh clone, a pull, an edit). */
function consoleStale(root = CONSOLE_ROOT): boolean {
  const index = join(root, 'dist', 'index.html');
  return !existsSync(index) || statSync(index).mtimeMs < newestSource(root);
}

/** Builds console/dist when it is missing or stale (a few seconds); Vite is loaded only then. */
async function ensureConsoleBuilt(onBuild?: () => void): Promise<void> {
  if (!consoleStale()) return;
  onBuild?.();
  const { build } = await import('vite');
  await build({ root: CONSOLE_ROOT, logLevel: 'warn' });
}

/** Serves the built console at `/`; returns false (and serves nothing) when it is not built. */
function mountConsole(app: Hono, dir = CONSOLE_DIST): boolean {
  if (!consoleBuilt(dir)) return false;
  // Locally the API is this origin with the printed token (in AWS the deployment writes config.json).
  app.get('/config.json', (c) => c.json({ apiUrl: '/', authMode: 'TOKEN' }));
  app.use('/*', async (c, next) => {
    if (c.req.path.startsWith('/api/')) return next();
    return serveStatic({ root: dir })(c, next);
  });
  return true;
}

export { CONSOLE_DIST, consoleBuilt, consoleStale, ensureConsoleBuilt, mountConsole };
