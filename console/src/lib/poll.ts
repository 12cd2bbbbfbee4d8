/**
 * Live data: a fetch repeated every few seconds while the tab is visible (and at once when it comes
 * back), never two at a time, keeping the last good data through a failed attempt. Every poller
 * reports to one heartbeat that the header shows ("live · 2 s ago" or what is wrong).
 */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { type ApiError, asApiError } from '../api/client.ts';

interface Heartbeat {
  lastOk: number | null;
  error: ApiError | null;
}

let heartbeat: Heartbeat = { lastOk: null, error: null };
const listeners = new Set<() => void>();

function report(error: ApiError | null): void {
  heartbeat = error ? { ...heartbeat, error } : { lastOk: Date.now(), error: null };
  for (const l of listeners) l();
}

function useHeartbeat(): Heartbeat {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => heartbeat,
  );
}

export interface Polled<T> {
  data: T | undefined;
  error: ApiError | null;
  /** True until the first answer (data or error). */
  loading: boolean;
  /** Fetch now (after an action), without waiting for the next tick. */
  refresh: () => Promise<void>;
}

/**
 * Polls `fetcher` every `intervalMs` (0: once). `key` identifies what is fetched: when it changes,
 * the data is dropped and fetched anew.
 */
function usePoll<T>(key: string | null, fetcher: () => Promise<T>, intervalMs: number): Polled<T> {
  const [state, setState] = useState<{ key: string | null; data?: T; error: ApiError | null; done: boolean }>(
    { key, error: null, done: false },
  );
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const inFlight = useRef<{ key: string; promise: Promise<void> } | null>(null);
  const keyRef = useRef(key);
  keyRef.current = key;

  const run = useCallback(async () => {
    if (inFlight.current?.key === keyRef.current) return inFlight.current.promise;
    // A fetch for what was shown before: let it finish (its answer is dropped), then fetch anew.
    if (inFlight.current) await inFlight.current.promise;
    const forKey = keyRef.current;
    if (forKey === null) return;
    const attempt = (async () => {
      await null; // so that `inFlight` is set before this can finish
      try {
        const data = await fetcherRef.current();
        report(null);
        if (keyRef.current === forKey) setState({ key: forKey, data, error: null, done: true });
      } catch (e) {
        const error = asApiError(e);
        report(error);
        if (keyRef.current === forKey)
          setState((s) => ({ key: forKey, data: s.key === forKey ? s.data : undefined, error, done: true }));
      } finally {
        inFlight.current = null;
      }
    })();
    inFlight.current = { key: forKey, promise: attempt };
    return attempt;
  }, []);

  useEffect(() => {
    if (key === null) return;
    setState((s) => (s.key === key ? s : { key, error: null, done: false }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const tick = async () => {
      if (stopped) return;
      if (!document.hidden) await run();
      if (!stopped && intervalMs > 0) timer = setTimeout(tick, intervalMs);
    };
    const onVisible = () => {
      if (!document.hidden) void run();
    };
    void tick();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [key, intervalMs, run]);

  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : null,
    loading: !current || !state.done,
    refresh: run,
  };
}

export { report, useHeartbeat, usePoll };
