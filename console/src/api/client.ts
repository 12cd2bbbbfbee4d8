/**
 * The console's only way to the API: `fetch` with the credentials, JSON in and out, and errors
 * turned into an `ApiError` that says what happened in words and what to do next.
 */
import { getToken } from './auth.ts';
import type { ConsoleConfig } from './config.ts';
import type { ErrorResponse } from './types.ts';

type Query = Record<string, string | number | boolean | undefined | null>;

class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the API did not answer at all. */
    readonly status: number,
    message: string,
    /** What the user can do about it. */
    readonly hint: string,
    readonly field?: string,
    readonly issues?: { field: string; message: string }[],
  ) {
    super(message);
  }

  get unauthorized(): boolean {
    return this.status === 401;
  }
}

function hintFor(status: number, body: Partial<ErrorResponse> | null, config: ConsoleConfig): string {
  switch (status) {
    case 0:
      return 'The API did not answer. Is `npm start` still running? This page keeps retrying on its own.';
    case 400:
      return body?.field ? `Correct “${body.field}” and try again.` : 'Correct the request and try again.';
    case 401:
      if (config.authMode === 'IAM')
        return 'This deployment authenticates with IAM (SigV4), which a browser cannot sign: deploy with JWT auth to use the console.';
      if (config.authMode === 'JWT') return 'Sign in again and paste a fresh token.';
      return 'Open the URL `npm start` printed (it carries the token), or paste the token it printed.';
    case 404:
      return 'It may have been deleted or renamed. Go back to the list and pick it again.';
    case 409:
      return 'Nothing was changed. Look at its current state and try again if it still applies.';
    case 503:
      return 'The state store did not answer; it may still be starting. This page keeps retrying.';
    default:
      return status >= 500
        ? 'This is a bug on the server side, not in what you sent: its log has the details.'
        : 'Try again; if it keeps failing, look at the API log.';
  }
}

class ApiClient {
  constructor(readonly config: ConsoleConfig) {}

  url(path: string, query?: Query): string {
    const url = new URL(`api/v1${path}`, this.config.apiUrl);
    for (const [key, value] of Object.entries(query ?? {}))
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
    return url.toString();
  }

  async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.url(path, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch {
      throw new ApiError(0, 'The API cannot be reached.', hintFor(0, null, this.config));
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    if (res.ok) return body as T;
    const error = (body ?? {}) as Partial<ErrorResponse>;
    const message = typeof error.message === 'string' ? error.message : `${res.status} ${res.statusText}`;
    throw new ApiError(
      res.status,
      message,
      hintFor(res.status, error, this.config),
      error.field,
      error.issues,
    );
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }
}

/** A path segment: run ids hold `:` and `+`. */
const seg = (s: string) => encodeURIComponent(s);

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(
    -1,
    error instanceof Error ? error.message : String(error),
    'Reload the page and try again.',
  );
}

export { ApiClient, ApiError, asApiError, seg };
