/** `updraft`: the command-line interface. Every command is a thin layer over the services. */
import { Command, CommanderError } from 'commander';
import { registerBackfillCommands } from './commands/backfill.ts';
import { registerDagsCommands } from './commands/dags.ts';
import { registerRemoteDagCommands } from './commands/dags-remote.ts';
import { registerDevCommand } from './commands/dev-command.ts';
import { registerPoolCommands } from './commands/pools.ts';
import { registerRunCommands } from './commands/runs.ts';
import { registerSimulateCommand } from './commands/simulate.ts';
import { EXIT, report } from './errors.ts';

const program = new Command('updraft')
  .description('Serverless workflow orchestration with Airflow semantics')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`updraft: ${text.replace(/^error: /, '')}`) });

/** Sets the exit code a command's work returned (errors go to `report` below). */
const run = async (work: Promise<number>) => {
  process.exitCode = await work;
};

registerRemoteDagCommands(registerDagsCommands(program), run);
registerRunCommands(program, run);
registerBackfillCommands(program, run);
registerPoolCommands(program, run);
registerDevCommand(program);
registerSimulateCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version exit 0; a bad flag or argument is a usage error (already printed).
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.exitCode = report(error);
  }
}
