/**
 * Credentials of the console. Locally the API takes the bearer token `npm start` prints; the URL it
 * prints carries it once as `#token=…`, which is moved into sessionStorage (kept while the tab lives,
 * never in the address bar or the history). A JWT (JWT mode in AWS) travels the same way.
 */
const KEY = 'updraft.token';

/** Moves `#token=…` (or `?token=…`) from the address into sessionStorage, keeping the rest of the URL. */
function adoptTokenFromUrl(): void {
  const url = new URL(window.location.href);
  let token: string | null = null;
  const hash = url.hash.replace(/^#/, '');
  const hashMatch = /(?:^|[&?])token=([^&]+)/.exec(hash);
  if (hashMatch) {
    token = decodeURIComponent(hashMatch[1]!);
    const rest = hash.replace(hashMatch[0], '').replace(/^[&?]/, '');
    url.hash = rest.startsWith('/') ? rest : '/';
  }
  const query = url.searchParams.get('token');
  if (query) {
    token = query;
    url.searchParams.delete('token');
  }
  if (token) {
    setToken(token);
    window.history.replaceState(null, '', url.toString());
  }
}

function getToken(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function setToken(token: string | null): void {
  try {
    if (token) window.sessionStorage.setItem(KEY, token.trim());
    else window.sessionStorage.removeItem(KEY);
  } catch {
    // Storage disabled (private mode): the token lives as long as this page.
  }
}

export { adoptTokenFromUrl, getToken, setToken };
