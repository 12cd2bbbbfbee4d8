/** The console's entry: take the token from the URL, read where the API is, render. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { adoptTokenFromUrl } from './api/auth.ts';
import { ApiClient } from './api/client.ts';
import { loadConfig } from './api/config.ts';
import { App } from './app.tsx';
import './styles.css';

adoptTokenFromUrl();
const config = await loadConfig();
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App api={new ApiClient(config)} />
  </StrictMode>,
);
