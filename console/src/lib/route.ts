/** A hash route parsed: `#/dags/etl?run=…` → `{ parts: ['dags', 'etl'], params }` (pure: no window). */

export interface Route {
  /** Path segments after `#/`, decoded: `['dags', 'etl']`. */
  parts: string[];
  params: URLSearchParams;
}

function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = raw.split('?', 2);
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p));
  return { parts, params: new URLSearchParams(query) };
}

export { parseRoute };
