/**
 * The web console on the dev server: the files `npm run build:console` writes to console/dist,
 * served at `/` beside the API (`/api/…`). The console uses hash routes (`/#/dags/etl`), so `/`
 * (index.html) and its assets are all there is to serve; anything else under `/api` is the API's.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

/** Where the build puts the console (the CDK deploys the same folder to S3 + CloudFront). */
const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist', import.meta.url));

function consoleBuilt(dir = CONSOLE_DIST): boolean {
  return existsSync(`${dir}/index.html`);
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

export { CONSOLE_DIST, consoleBuilt, mountConsole };
