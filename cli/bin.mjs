#!/usr/bin/env node
// The `updraft` command. TypeScript (ours and the DAG files') runs through tsx's loader.
import { spawn } from 'node:child_process';
import { register } from 'tsx/esm/api';

/**
 * `simulate` runs in a young generation of 64 MB semi-spaces (V8's default is 16 MB): a simulated
 * day allocates ≈ 55 KB of short-lived records per try, and with small semi-spaces what lives
 * through a scheduler pass is copied and promoted, so collecting it costs more than making it. It
 * cut a simulated day's main-thread CPU by ≈ 10–13 % (bench/README.md, session 12). V8 sizes the
 * young generation at start-up only (`v8.setFlagsFromString` does not change it), so the command
 * runs itself once more with the flag, unless the caller chose a size (flag or NODE_OPTIONS).
 */
const YOUNG_GENERATION = '--max-semi-space-size=64';
const sized = (flags) => flags.some((flag) => flag.startsWith('--max-semi-space-size'));

if (
  process.argv[2] === 'simulate' &&
  !sized(process.execArgv) &&
  !sized((process.env.NODE_OPTIONS ?? '').split(/\s+/))
) {
  const child = spawn(process.execPath, [YOUNG_GENERATION, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  // A signal meant for the command reaches the run doing its work; its end is the command's.
  const forward = (signal) => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.on('error', (error) => {
    console.error(error);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  register();
  await import('./main.ts');
}
