/** `updraft`: the command-line interface. Every command is a thin layer over the services. */
import { Command, CommanderError } from 'commander';
import { registerDagsCommands } from './commands/dags.ts';
import { registerDevCommand } from './commands/dev.ts';
import { registerSimulateCommand } from './commands/simulate.ts';
import { EXIT, report } from './errors.ts';

const program = new Command('updraft')
  .description('Serverless workflow orchestration with Airflow semantics')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`updraft: ${text.replace(/^error: /, '')}`) });

registerDagsCommands(program);
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
