/**
 * Where the API is. In AWS the deployment writes `config.json` beside the console
 * (`{ "apiUrl": "https://…/", "authMode": "IAM" | "JWT" }`); locally there is none and the API is
 * the origin that served the page, with the printed token.
 */
export type AuthMode = 'TOKEN' | 'JWT' | 'IAM';

export interface ConsoleConfig {
  /** Base of the API, ending in `/` (the console adds `api/v1/…`). */
  apiUrl: string;
  authMode: AuthMode;
}

const LOCAL: ConsoleConfig = { apiUrl: new URL('/', window.location.href).toString(), authMode: 'TOKEN' };

async function loadConfig(): Promise<ConsoleConfig> {
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (!res.ok) return LOCAL;
    const body = (await res.json()) as Partial<ConsoleConfig>;
    if (typeof body.apiUrl !== 'string') return LOCAL;
    const absolute = new URL(body.apiUrl, window.location.href).toString();
    const apiUrl = absolute.endsWith('/') ? absolute : `${absolute}/`;
    const authMode = body.authMode === 'IAM' || body.authMode === 'JWT' ? body.authMode : 'TOKEN';
    return { apiUrl, authMode };
  } catch {
    return LOCAL;
  }
}

export { loadConfig };
