/**
 * `updraft dags pause|unpause|deploy`: DAGs of a deployment, through its API (deploy also uploads
 * to its DAG bucket: dags-deploy.ts).
 */
import type { Command } from 'commander';
import type { Dag } from '../../functions/api/wire.ts';
import { type ApiOptions, apiCommand, clientOf, output, seg, withDagHint } from '../api/common.ts';
import { EXIT } from '../errors.ts';

async function setPaused(dagId: string, paused: boolean, options: ApiOptions): Promise<number> {
  const client = clientOf(options);
  const dag = await withDagHint(client, dagId, () =>
    client.request<Dag>('PATCH', `/dags/${seg(dagId)}`, { body: { paused } }),
  );
  output(options, dag, () => `${dagId} ${paused ? 'paused: no new runs or tasks start' : 'unpaused'}`);
  return EXIT.ok;
}

function registerRemoteDagCommands(dags: Command, run: (code: Promise<number>) => Promise<void>): void {
  apiCommand(
    dags
      .command('pause')
      .description('Pause a DAG of a deployment: no new runs, no new tasks start')
      .argument('<dagId>'),
  ).action((dagId: string, options) => run(setPaused(dagId, true, options)));
  apiCommand(dags.command('unpause').description('Unpause a DAG of a deployment').argument('<dagId>')).action(
    (dagId: string, options) => run(setPaused(dagId, false, options)),
  );
  apiCommand(
    dags
      .command('deploy')
      .description("Bundle a folder's DAG files, upload them to the deployment and report import errors")
      .argument('<dir>')
      .option('--dry-run', 'build, load and compile only; upload nothing')
      .option('--timeout <seconds>', 'how long to wait for the dag-processor', '60'),
  ).action(async (dir: string, options) => {
    const { deploy } = await import('./dags-deploy.ts');
    await run(deploy(dir, options));
  });
}

export { registerRemoteDagCommands };
