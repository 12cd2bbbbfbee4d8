/**
 * Runs a command as a local subprocess in its own process group: every output line goes to the
 * try's log, a non-zero exit fails with the last stderr line, and an abort (execution timeout, try
 * taken away) kills the whole group — SIGTERM, then SIGKILL if it is still there after a grace period.
 */
import { spawn } from 'node:child_process';
import type { TaskOutcome } from '#ports';

export interface SubprocessOptions {
  env?: Record<string, string>;
  cwd?: string;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Time between SIGTERM and SIGKILL after an abort. @default 5000 */
  killGraceMs?: number;
}

/** Why an abort happened, as one line ("execution timeout"). */
function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? 'aborted' : String(reason);
}

/** Splits a stream into lines, calling `onLine` for each (the last one even without a newline). */
function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts) onLine(line.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (buffer) onLine(buffer.replace(/\r$/, ''));
  });
}

/**
 * Succeeds with the last non-empty stdout line as result (as Airflow's BashOperator pushes it to
 * XCom), or null when the command printed nothing.
 */
function runSubprocess(command: string, args: string[], opts: SubprocessOptions): Promise<TaskOutcome> {
  if (opts.signal.aborted)
    return Promise.resolve({ state: 'failed', error: abortReason(opts.signal) } satisfies TaskOutcome);
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastOut: string | null = null;
    let lastErr = '';
    eachLine(child.stdout, (line) => {
      opts.log(line);
      if (line.trim()) lastOut = line.trim();
    });
    eachLine(child.stderr, (line) => {
      opts.log(line);
      if (line.trim()) lastErr = line.trim();
    });
    let killTimer: NodeJS.Timeout | null = null;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const kill = () => {
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), opts.killGraceMs ?? 5_000);
      killTimer.unref();
    };
    opts.signal.addEventListener('abort', kill, { once: true });
    const settle = (outcome: TaskOutcome) => {
      opts.signal.removeEventListener('abort', kill);
      if (killTimer) clearTimeout(killTimer);
      resolve(outcome);
    };
    child.on('error', (error) => {
      settle({ state: 'failed', error: `cannot start ${command}: ${error.message}` });
    });
    child.on('close', (code, signal) => {
      if (opts.signal.aborted) settle({ state: 'failed', error: abortReason(opts.signal) });
      else if (code === 0) settle({ state: 'success', result: lastOut });
      else
        settle({
          state: 'failed',
          error: lastErr || (code === null ? `killed by ${signal}` : `exited with code ${code}`),
        });
    });
  });
}

export { abortReason, runSubprocess };
