/** Shown when the API answers 401: paste the token (or open the URL `npm start` printed). */
import { useState } from 'react';
import { setToken } from '../api/auth.ts';
import type { ApiError } from '../api/client.ts';
import { useApi } from '../api/context.ts';
import { report } from '../lib/poll.ts';

function TokenForm({ error, onSaved }: { error: ApiError; onSaved: () => void }) {
  const api = useApi();
  const [value, setValue] = useState('');
  const iam = api.config.authMode === 'IAM';
  return (
    <section className="card signin">
      <h1>Sign in to the API</h1>
      <p>{error.message}</p>
      <p className="hint">{error.hint}</p>
      {!iam && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setToken(value);
            report(null);
            onSaved();
            window.location.reload();
          }}
        >
          <label htmlFor="token">{api.config.authMode === 'JWT' ? 'JWT' : 'Token'}</label>
          <div className="row">
            <input
              id="token"
              type="password"
              autoComplete="off"
              value={value}
              onChange={(e) => setValue(e.target.value)}
              placeholder="paste the token"
            />
            <button type="submit" className="primary" disabled={value.trim() === ''}>
              Use token
            </button>
          </div>
          <p className="help">Kept in this tab only (sessionStorage); closing the tab forgets it.</p>
        </form>
      )}
    </section>
  );
}

export { TokenForm };
