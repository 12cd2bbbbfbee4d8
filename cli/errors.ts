/** One readable line for every user mistake; exit codes are part of the CLI's interface (docs/cli.md). */
import { ZodError } from 'zod';
import { UpdraftError } from '#core/errors.ts';

/**
 * Exit codes (docs/cli.md): 0 ok; 1 the work failed or was refused (a run or backfill failed, DAGs
 * are invalid, the API refused the action); 2 bad input (a flag, a date, an unknown DAG); 3 the API
 * is unreachable or refused the credentials; 4 the API itself failed.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, api: 4 } as const;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
  }
}

function zodLine(error: ZodError, what: string): string {
  const issue = error.issues[0];
  if (!issue) return `${what} is invalid`;
  const path = issue.path.map(String).join('.');
  const extra = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  if (issue.code === 'unrecognized_keys')
    return `${what}: ${[path, issue.keys[0]].filter(Boolean).join('.')}: unknown field${extra}`;
  return `${what}: ${path || '(root)'}: ${issue.message}${extra}`;
}

/** Prints the error as one line on stderr and returns the exit code. */
function report(error: unknown): number {
  if (error instanceof CliError) {
    process.stderr.write(`updraft: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof UpdraftError) {
    process.stderr.write(`updraft: ${error.message.split('\n').join('\nupdraft: ')}\n`);
    return EXIT.usage;
  }
  if (error instanceof ZodError) {
    process.stderr.write(`updraft: ${zodLine(error, 'input')}\n`);
    return EXIT.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `updraft: unexpected error: ${message.split('\n')[0]} (run with UPDRAFT_DEBUG=1 for details)\n`,
  );
  if (process.env.UPDRAFT_DEBUG) console.error(error);
  return EXIT.failed;
}

export { CliError, report, zodLine };
