/** `updraft pools list|set|delete`: pools of a deployment through its API. */
import type { Command } from 'commander';
import type { Pool } from '../../functions/api/wire.ts';
import { ApiError } from '../api/client.ts';
import { type ApiOptions, apiCommand, clientOf, output, seg } from '../api/common.ts';
import { CliError, EXIT } from '../errors.ts';
import { table } from '../format/table.ts';

const slotsText = (n: number) => (n === -1 ? 'unlimited' : String(n));

async function list(options: ApiOptions): Promise<number> {
  const client = clientOf(options);
  const pools = await client.all<Pool>('/pools');
  output(options, { pools }, () =>
    table(
      ['pool', 'slots', 'used', 'queued', 'running', 'open', 'description'],
      pools.map((p) => [
        p.name,
        slotsText(p.slots),
        String(p.used),
        String(p.queued),
        String(p.running),
        p.open === null ? '—' : String(p.open),
        p.description,
      ]),
    ),
  );
  return EXIT.ok;
}

function slotsOf(value: string): number {
  const n = value === 'unlimited' ? -1 : Number(value);
  if (!Number.isInteger(n) || n < -1)
    throw new CliError(`slots must be a whole number ≥ 0, or -1 / unlimited; got ${value}`);
  return n;
}

/** Creates the pool, or resizes it if it exists (a smaller size admits nothing until use falls). */
async function set(
  name: string,
  slotsArg: string,
  options: ApiOptions & { description?: string },
): Promise<number> {
  const slots = slotsOf(slotsArg);
  const client = clientOf(options);
  const patch = { slots, ...(options.description !== undefined && { description: options.description }) };
  let pool: Pool;
  let created = false;
  try {
    pool = await client.request<Pool>('PATCH', `/pools/${seg(name)}`, { body: patch });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    pool = await client.request<Pool>('POST', '/pools', { body: { name, ...patch } });
    created = true;
  }
  output(options, pool, () => {
    const over =
      pool.slots !== -1 && pool.used > pool.slots
        ? ` (${pool.used} in use: nothing more is admitted until use falls)`
        : '';
    return `pool ${name} ${created ? 'created' : 'set'}: ${slotsText(pool.slots)} slots${over}`;
  });
  return EXIT.ok;
}

async function remove(name: string, options: ApiOptions): Promise<number> {
  const client = clientOf(options);
  try {
    await client.request<null>('DELETE', `/pools/${seg(name)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      const names = (await client.all<Pool>('/pools')).map((p) => p.name);
      throw new CliError(`no pool ${name} (pools: ${names.join(', ')})`, EXIT.usage);
    }
    throw error;
  }
  output(options, { deleted: name }, () => `pool ${name} deleted`);
  return EXIT.ok;
}

function registerPoolCommands(program: Command, run: (code: Promise<number>) => Promise<void>): void {
  const pools = program.command('pools').description('Pools of a deployment (through its API)');
  apiCommand(pools.command('list').description('Pools with their slots and use')).action((options) =>
    run(list(options)),
  );
  apiCommand(
    pools
      .command('set')
      .description('Create a pool or resize it (takes effect at the next claim)')
      .argument('<name>')
      .argument('<slots>', 'slots, or -1 / unlimited')
      .option('--description <text>', 'what the pool is for'),
  ).action((name: string, slots: string, options) => run(set(name, slots, options)));
  apiCommand(
    pools
      .command('delete')
      .description('Delete a pool (refused for default_pool and while its slots are held)')
      .argument('<name>'),
  ).action((name: string, options) => run(remove(name, options)));
}

export { registerPoolCommands };
