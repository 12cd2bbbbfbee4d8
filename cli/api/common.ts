/** What every command that talks to the API shares: connection flags, `--json`, DAG name hints. */
import type { Command } from 'commander';
import type { Dag } from '../../functions/api/wire.ts';
import { CliError, EXIT } from '../errors.ts';
import { ApiClient, ApiError } from './client.ts';
import { resolveConnection } from './connection.ts';

export interface ApiOptions {
  url?: string;
  profile?: string;
  token?: string;
  json?: boolean;
}

/** Adds `--url`, `--profile`, `--token` and `--json` to a command that talks to the API. */
function apiCommand(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'the deployment (e.g. http://127.0.0.1:3000); default: the local stack')
    .option('--profile <name>', 'a profile of ~/.updraft/config.json ($UPDRAFT_CONFIG)')
    .option(
      '--token <token>',
      'a bearer token (or JWT); default: the profile, UPDRAFT_TOKEN or the local one',
    )
    .option('--json', 'print JSON for scripts');
}

function clientOf(options: ApiOptions): ApiClient {
  return new ApiClient(resolveConnection(options));
}

/** Prints `data` as JSON with --json, else the text. */
function output(options: ApiOptions, data: unknown, text: () => string): void {
  process.stdout.write(`${options.json ? JSON.stringify(data, null, 2) : text()}\n`);
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** Names close to `name` (a typo away, or containing it), closest first, at most three. */
function closeNames(name: string, names: string[]): string[] {
  const lower = name.toLowerCase();
  const limit = Math.max(2, Math.floor(name.length / 3));
  return names
    .map((n) => ({ n, d: distance(lower, n.toLowerCase()) }))
    .filter(({ n, d }) => d <= limit || n.toLowerCase().includes(lower) || lower.includes(n.toLowerCase()))
    .sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : 1))
    .slice(0, 3)
    .map(({ n }) => n);
}

/** Turns a 404 for a DAG into "no DAG x: did you mean y?" with the deployment's DAG ids. */
async function withDagHint<T>(client: ApiClient, dagId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404 || !/DAG/.test(error.message)) throw error;
    const dags = await client.all<Dag>('/dags').catch(() => [] as Dag[]);
    const ids = dags.map((d) => d.dagId);
    if (ids.includes(dagId)) throw error;
    const close = closeNames(dagId, ids);
    const hint = close.length
      ? `did you mean ${close.join(', ')}?`
      : ids.length
        ? `the deployment has ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ` and ${ids.length - 5} more` : ''}`
        : 'the deployment has no DAGs yet (updraft dags deploy <dir>)';
    throw new CliError(`no DAG ${dagId}: ${hint}`, EXIT.usage);
  }
}

/** A date flag as an ISO instant (a date alone is midnight UTC). */
function instantFlag(value: string, flag: string): string {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms))
    throw new CliError(`${flag} ${value} is not a date (e.g. 2026-01-05 or 2026-01-05T06:00:00Z)`);
  return new Date(ms).toISOString();
}

function jsonFlag(value: string, flag: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new CliError(`${flag} is not JSON: ${value}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new CliError(`${flag} must be a JSON object, e.g. '{"region": "eu"}'`);
  return parsed as Record<string, unknown>;
}

function intFlag(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`${flag} must be a whole number ≥ ${min}, got ${value}`);
  return n;
}

/** Path segment (run ids hold `:` and `+`). */
const seg = (s: string) => encodeURIComponent(s);

/** "3m 12s", "1h 4m", "850ms". */
function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export {
  apiCommand,
  clientOf,
  closeNames,
  distance,
  duration,
  instantFlag,
  intFlag,
  jsonFlag,
  output,
  seg,
  withDagHint,
};
