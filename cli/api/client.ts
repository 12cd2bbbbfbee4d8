/**
 * The CLI's HTTP client of the Updraft API (docs/api.md): JSON in and out, bearer or SigV4 auth,
 * and every failure turned into one line that says what to do, with the exit code of its kind
 * (docs/cli.md): the API unreachable or refusing the credentials is 3, a bad request or an unknown
 * thing is 2, a refusal of the action (409) is 1, a failure of the API itself is 4.
 */
import { CliError, EXIT } from '../errors.ts';
import type { Connection } from './connection.ts';

export interface ApiErrorBody {
  error: string;
  message: string;
  field?: string;
}

/** An answer of the API that is not a success, with its body. */
class ApiError extends CliError {
  constructor(
    message: string,
    exitCode: number,
    readonly status: number,
    readonly body: ApiErrorBody | null,
  ) {
    super(message, exitCode);
  }
}

const BASE = '/api/v1';
/** Requests that read are retried this many times when the network fails. */
const READ_RETRIES = 2;

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Retry on a network failure even though the method writes (the request carries an idempotency key). */
  retrySafe?: boolean;
  timeoutMs?: number;
}

function exitFor(status: number): number {
  if (status === 401 || status === 403) return EXIT.unreachable;
  if (status === 409) return EXIT.failed;
  if (status >= 500) return EXIT.api;
  return EXIT.usage;
}

class ApiClient {
  constructor(readonly connection: Connection) {}

  get baseUrl(): string {
    return `${this.connection.url}${BASE}`;
  }

  async get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  /** Every page of a paged list (`{ items, next }`). */
  async all<T>(path: string, query: RequestOptions['query'] = {}): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.get<{ items: T[]; next: string | null }>(path, {
        ...query,
        limit: 500,
        cursor,
      });
      out.push(...page.items);
      cursor = page.next ?? undefined;
    } while (cursor);
    return out;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const retries = method === 'GET' || options.retrySafe ? READ_RETRIES : 0;
    for (let attempt = 0; ; attempt += 1) {
      let res: Response;
      try {
        const headers = await this.#headers(method, url, body);
        res = await fetch(url, {
          method,
          headers,
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
      } catch (error) {
        if (error instanceof CliError) throw error;
        if (attempt < retries) {
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
          continue;
        }
        throw this.#unreachable(error);
      }
      return this.#answer<T>(res, method, url);
    }
  }

  async #headers(method: string, url: URL, body: string | undefined): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const { credentials } = this.connection;
    if (credentials.type === 'bearer') headers.authorization = `Bearer ${credentials.token}`;
    if (credentials.type === 'iam') {
      // Loaded only for IAM: the credential chain is a large import.
      const { signRequest } = await import('./sigv4.ts');
      return signRequest(credentials, { method, url, headers, body });
    }
    return headers;
  }

  #unreachable(error: unknown): CliError {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (error as Error).name === 'TimeoutError'
        ? 'no answer in time'
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    const hint = this.connection.local ? ': is `npm start` running?' : ' (check --url or the profile)';
    return new CliError(`cannot reach the Updraft API at ${this.baseUrl} (${why})${hint}`, EXIT.unreachable);
  }

  async #answer<T>(res: Response, method: string, url: URL): Promise<T> {
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      const what =
        `${method} ${url.pathname} answered ${res.status} ${res.headers.get('content-type') ?? ''}`.trim();
      throw new CliError(
        `${this.connection.url} does not look like an Updraft API (${what}, not JSON): check --url or the profile`,
        EXIT.unreachable,
      );
    }
    if (res.ok) return json as T;
    const body = json && typeof json === 'object' && 'message' in json ? (json as ApiErrorBody) : null;
    const message = body ? `${body.field ? `${body.field}: ` : ''}${body.message}` : `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) {
      const hint = this.#authHint();
      throw new ApiError(
        `the API at ${this.baseUrl} refused the credentials (${message}): ${hint}`,
        EXIT.unreachable,
        res.status,
        body,
      );
    }
    if (res.status >= 500)
      throw new ApiError(
        `the API failed (${res.status}: ${message}); its log has the details`,
        EXIT.api,
        res.status,
        body,
      );
    throw new ApiError(message, exitFor(res.status), res.status, body);
  }

  #authHint(): string {
    const { credentials, local } = this.connection;
    if (credentials.type === 'none')
      return local
        ? 'no token found in .updraft/dev/api-token: start `npm start` here, or pass --token'
        : 'give a token (--token, UPDRAFT_TOKEN) or a profile with auth';
    if (credentials.type === 'iam')
      return 'check that your AWS credentials (AWS_PROFILE) may invoke this API';
    return local
      ? 'the token changes at each `npm start`: run the command in the project folder'
      : "check the profile's token";
  }
}

export { ApiClient, ApiError };
