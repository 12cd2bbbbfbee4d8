/** `updraft dev`: its flags; the local stack itself (dev.ts) is loaded only when it runs. */
import type { Command } from 'commander';
import { EXIT } from '../errors.ts';
import { DAG_DEFAULTS_FLAG } from './dag-defaults-file.ts';
import type { DevOptions } from './dev.ts';

function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description(
      'Run the whole system locally: DynamoDB Local, SQS/S3 emulator, the functions, a DAG folder watcher',
    )
    .option('--dags <dir>', 'folder of DAG files to upload as they change', 'examples/dags')
    .option('--data <dir>', 'where DynamoDB Local and the saved bucket keep their data', '.updraft/dev')
    .option('--dynamodb-port <port>', 'DynamoDB Local port', '8000')
    .option('--aws-port <port>', 'SQS and S3 emulator port', '4566')
    .option('--port <port>', 'HTTP port (API and console)', '3000')
    .option('--sweep <duration>', 'how often the sweep runs', '60s')
    .option(
      '--pools <file>',
      'JSON of pools to create at start ({"name": slots}); ignored if absent',
      'examples/pools.json',
    )
    .option(...DAG_DEFAULTS_FLAG)
    .option('--keep-paused', 'new DAGs start paused, as in AWS (default: unpaused)')
    .option('--verbose', 'print debug lines too')
    .action(async (opts: DevOptions) => {
      // The stack's modules load only for this command: every other command starts faster.
      const { runDev } = await import('./dev.ts');
      await runDev(opts);
      process.exitCode = EXIT.ok;
    });
}

export { registerDevCommand };
