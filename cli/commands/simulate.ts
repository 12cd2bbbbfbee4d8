/** `updraft simulate <dags> --scenario <file>`: what will my limits do to this workload? */
import { readFile, writeFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { resolveDagDefaults } from '#core/dag-defaults.ts';
import { Scenario } from '#simulator/scenario.ts';
import { CliError, EXIT, zodLine } from '../errors.ts';
import { formatSimulation } from '../format/simulate-text.ts';
import { compileAll, loadPath } from './dags.ts';

async function readScenario(path: string): Promise<Scenario> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new CliError(`${path}: no such scenario file`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = Scenario.safeParse(json);
  if (!parsed.success) throw new CliError(zodLine(parsed.error, path));
  return parsed.data;
}

function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Run the real scheduler in virtual time against DAG files and a workload scenario')
    .argument('<dags>', 'a DAG file or a folder of DAG files')
    .requiredOption('--scenario <file>', 'scenario JSON (docs/simulate.md)')
    .option('--json', 'print the full report as JSON')
    .option('--out <file>', 'write the JSON report to a file')
    .option('--gantt-run <runId>', 'draw the gantt of this run (default: the busiest run)')
    .action(
      async (path: string, opts: { scenario: string; json?: boolean; out?: string; ganttRun?: string }) => {
        const scenario = await readScenario(opts.scenario);
        const dagDefaults = resolveDagDefaults(scenario.settings?.dagDefaults, 'settings.dagDefaults');
        if (!dagDefaults.ok)
          throw new CliError(
            `${opts.scenario}: ${dagDefaults.issues[0]!.field}: ${dagDefaults.issues[0]!.message}`,
          );
        // The DAGs compile over the scenario's DAG defaults, as the dag-processor's over the deployment's.
        const { manifests, problems } = compileAll(await loadPath(path), dagDefaults.defaults);
        if (problems.length > 0) {
          for (const line of problems) console.error(line);
          process.exitCode = EXIT.failed;
          return;
        }
        const known = new Set(manifests.map((m) => m.manifest.dagId));
        const unknown = [...(scenario.dags ?? []), ...(scenario.triggers ?? []).map((t) => t.dagId)].find(
          (id) => !known.has(id),
        );
        if (unknown)
          throw new CliError(
            `${opts.scenario}: DAG ${unknown} is not in ${path} (known: ${[...known].join(', ')})`,
          );

        const bar = process.stderr.isTTY
          ? new SingleBar({
              format: 'simulating {bar} {percentage}% | {day}',
              hideCursor: true,
              stream: process.stderr,
            })
          : null;
        const start = Date.parse(scenario.start);
        const end = Date.parse(scenario.end);
        bar?.start(100, 0, { day: scenario.start });
        const { runSimulation } = await import('#simulator/engine.ts');
        const report = await runSimulation({
          dags: manifests.map((m) => m.manifest),
          scenario,
          onProgress: ({ now }) =>
            bar?.update(Math.floor(((now - start) / (end - start)) * 100), {
              day: new Date(now).toISOString(),
            }),
        });
        bar?.update(100);
        bar?.stop();
        const json = JSON.stringify(report, null, 2);
        if (opts.out) await writeFile(opts.out, json);
        if (opts.json && !opts.out) console.log(json);
        else
          console.log(
            formatSimulation(report, { ganttRun: opts.ganttRun, width: process.stdout.columns ?? 100 }),
          );
        if (report.violations.length > 0) process.exitCode = EXIT.failed;
      },
    );
}

export { registerSimulateCommand };
