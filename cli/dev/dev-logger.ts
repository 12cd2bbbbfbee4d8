/**
 * The local stack's console: one readable line per event (`12:00:01 worker  try failed  dag.task …`),
 * warnings in yellow, errors in red; debug lines only with `verbose`.
 */
import pc from 'picocolors';
import type { Logger } from '#ports';

type Write = (line: string) => void;

function fields(extra?: Record<string, unknown>): string {
  if (!extra) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined || key === 'notification') continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    parts.push(`${key}=${text && text.length > 120 ? `${text.slice(0, 117)}…` : text}`);
  }
  return parts.length ? ` ${pc.dim(parts.join(' '))}` : '';
}

function clockTime(): string {
  return new Date().toISOString().slice(11, 19);
}

function devLogger(name: string, options: { verbose?: boolean; write?: Write } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const label = name.padEnd(13);
  const line = (color: (s: string) => string) => (message: string, extra?: Record<string, unknown>) =>
    write(`${pc.dim(clockTime())} ${pc.cyan(label)} ${color(message)}${fields(extra)}`);
  return {
    debug: options.verbose ? line(pc.dim) : () => {},
    info: line((s) => s),
    warn: line(pc.yellow),
    error: line(pc.red),
  };
}

export { devLogger };
