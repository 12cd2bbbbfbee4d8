/**
 * Hash routes (`#/dags/etl?run=…&task=…`): they work from any static host (S3 + CloudFront, the
 * local API) without rewrite rules, and every view — selected run, task, tab — is a link to share.
 */
import { useEffect, useState } from 'react';
import { parseRoute as parse, type Route } from './route.ts';

function href(parts: string[], params: Record<string, string | null | undefined> = {}): string {
  const path = parts.map((p) => encodeURIComponent(p)).join('/');
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const q = query.toString();
  return `#/${path}${q ? `?${q}` : ''}`;
}

function navigate(parts: string[], params: Record<string, string | null | undefined> = {}): void {
  window.location.hash = href(parts, params);
}

/** Changes some query params of the current route, keeping the others. */
function updateParams(route: Route, changes: Record<string, string | null | undefined>): void {
  const next: Record<string, string | null | undefined> = Object.fromEntries(route.params.entries());
  Object.assign(next, changes);
  navigate(route.parts, next);
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export { href, navigate, type Route, updateParams, useRoute };
