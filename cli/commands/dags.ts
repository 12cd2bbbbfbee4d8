/** `updraft dags list|validate|test`. */
import { stat } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { compileDag } from '#core/compile.ts';
import { type DagDefaults, DEFAULT_DAG_DEFAULTS } from '#core/dag-defaults.ts';
import type { DagDefinition } from '#core/definition.ts';
import { DagValidationError } from '#core/errors.ts';
import type { DagManifest } from '#core/manifest.ts';
import type { ImportError } from '#core/model.ts';
import { timetableFor } from '#core/timetable.ts';
import { loadDagDir, loadDagFile } from '#sdk/load.ts';
import { CliError, EXIT } from '../errors.ts';
import { table } from '../format/table.ts';
import { DAG_DEFAULTS_FLAG, readDagDefaults } from './dag-defaults-file.ts';

export interface LoadedDags {
  dags: { dag: DagDefinition; fileloc: string }[];
  errors: ImportError[];
}

/** A DAG file or a folder of them; a missing path is a usage error. */
async function loadPath(path: string): Promise<LoadedDags> {
  const full = resolve(path);
  const info = await stat(full).catch(() => null);
  if (!info) throw new CliError(`${path}: no such file or folder`);
  if (info.isDirectory()) return loadDagDir(full);
  const result = await loadDagFile(full);
  if (result.error) return { dags: [], errors: [{ ...result.error, at: 0 }] };
  return { dags: result.dags.map((dag) => ({ dag, fileloc: full })), errors: [] };
}

function shortPath(fileloc: string): string {
  return relative(process.cwd(), fileloc) || basename(fileloc);
}

/** Compiles every loaded DAG over the deployment's defaults (`--dag-defaults`; Airflow's otherwise). */
function compileAll(loaded: LoadedDags, dagDefaults: DagDefaults = DEFAULT_DAG_DEFAULTS) {
  const manifests: { manifest: DagManifest; fileloc: string; dag: DagDefinition }[] = [];
  const problems: string[] = loaded.errors.map((e) => `${shortPath(e.fileloc)}: ${e.message}`);
  for (const { dag, fileloc } of loaded.dags) {
    try {
      manifests.push({ manifest: compileDag(dag, dagDefaults), fileloc, dag });
    } catch (error) {
      if (!(error instanceof DagValidationError)) throw error;
      for (const issue of error.issues)
        problems.push(`${shortPath(fileloc)}: ${issue.dagId}: ${issue.field}: ${issue.message}`);
    }
  }
  return { manifests, problems };
}

function scheduleText(manifest: DagManifest): string {
  return manifest.schedule.kind === 'none' ? 'none (manual)' : timetableFor(manifest.schedule).describe();
}

function registerDagsCommands(program: Command): Command {
  const dags = program
    .command('dags')
    .description('DAG files here (list, validate, test) and DAGs of a deployment (deploy, pause, unpause)');

  dags
    .command('list')
    .description('List the DAGs in a file or folder, with their schedule, tasks and version')
    .argument('<path>', 'a DAG file or a folder of DAG files')
    .option('--json', 'print JSON')
    .option(...DAG_DEFAULTS_FLAG)
    .action(async (path: string, opts: { json?: boolean; dagDefaults?: string }) => {
      const dagDefaults = await readDagDefaults(opts.dagDefaults);
      const { manifests, problems } = compileAll(await loadPath(path), dagDefaults);
      if (opts.json) {
        const rows = manifests.map(({ manifest, fileloc }) => ({
          dagId: manifest.dagId,
          fileloc,
          schedule: scheduleText(manifest),
          tasks: manifest.tasks.length,
          pools: [...new Set(manifest.tasks.map((t) => t.pool))].sort(),
          version: manifest.hash,
          pausedOnCreation: manifest.isPausedUponCreation,
        }));
        console.log(JSON.stringify({ dags: rows, errors: problems }, null, 2));
      } else {
        console.log(
          table(
            ['DAG', 'SCHEDULE', 'TASKS', 'POOLS', 'VERSION', 'FILE'],
            manifests.map(({ manifest, fileloc }) => [
              manifest.dagId,
              scheduleText(manifest),
              String(manifest.tasks.length),
              [...new Set(manifest.tasks.map((t) => t.pool))].sort().join(', '),
              manifest.hash.slice(0, 8),
              shortPath(fileloc),
            ]),
          ),
        );
        if (problems.length > 0) {
          console.log(pc.red(`\n${problems.length} problem(s):`));
          for (const line of problems) console.log(`  ${line}`);
        }
      }
      if (problems.length > 0) process.exitCode = EXIT.failed;
    });

  dags
    .command('validate')
    .description('Check every DAG in a file or folder and print every problem')
    .argument('<path>', 'a DAG file or a folder of DAG files')
    .option(...DAG_DEFAULTS_FLAG)
    .action(async (path: string, opts: { dagDefaults?: string }) => {
      const dagDefaults = await readDagDefaults(opts.dagDefaults);
      const { manifests, problems } = compileAll(await loadPath(path), dagDefaults);
      if (problems.length > 0) {
        for (const line of problems) console.log(line);
        process.exitCode = EXIT.failed;
        return;
      }
      console.log(`${manifests.length} DAG${manifests.length === 1 ? '' : 's'} OK`);
    });

  dags
    .command('test')
    .description(
      'Run one DAG run in this process with the real scheduler and task code (like airflow dags test)',
    )
    .argument('<file>', 'the DAG file')
    .option('--dag <dagId>', 'which DAG, when the file defines several')
    .option('--date <date>', 'logical date of the run (ISO-8601); default now')
    .option('--task <taskId>', 'run only this task (the others are marked success)')
    .option('--conf <json>', 'run conf as JSON', '{}')
    .option(
      '--pool <name=slots...>',
      'pool sizes for the test (pools the DAG uses are created with 128 slots otherwise)',
    )
    .option(...DAG_DEFAULTS_FLAG)
    .action(
      async (
        file: string,
        opts: {
          dag?: string;
          date?: string;
          task?: string;
          conf: string;
          pool?: string[];
          dagDefaults?: string;
        },
      ) => {
        const dagDefaults = await readDagDefaults(opts.dagDefaults);
        const loaded = await loadPath(file);
        if (loaded.errors.length > 0) throw new CliError(loaded.errors[0]!.message, EXIT.failed);
        const { manifests, problems } = compileAll(loaded, dagDefaults);
        if (problems.length > 0) {
          for (const line of problems) console.error(line);
          process.exitCode = EXIT.failed;
          return;
        }
        const chosen = opts.dag ? manifests.find((m) => m.manifest.dagId === opts.dag) : manifests[0];
        if (!chosen) {
          const known = manifests.map((m) => m.manifest.dagId).join(', ');
          throw new CliError(`no DAG ${opts.dag} in ${file} (it defines: ${known})`);
        }
        if (!opts.dag && manifests.length > 1) {
          console.error(
            pc.dim(
              `${file} defines ${manifests.length} DAGs; testing ${chosen.manifest.dagId} (choose with --dag)`,
            ),
          );
        }
        let conf: Record<string, unknown>;
        try {
          conf = JSON.parse(opts.conf);
        } catch {
          throw new CliError(`--conf is not valid JSON: ${opts.conf}`);
        }
        if (typeof conf !== 'object' || conf === null || Array.isArray(conf))
          throw new CliError('--conf must be a JSON object');
        const logicalDate = opts.date === undefined ? undefined : Date.parse(opts.date);
        if (logicalDate !== undefined && Number.isNaN(logicalDate)) {
          throw new CliError(
            `--date ${opts.date} is not a date (use ISO-8601, e.g. 2026-01-05 or 2026-01-05T10:00:00Z)`,
          );
        }
        if (opts.task && !chosen.manifest.tasks.some((t) => t.taskId === opts.task)) {
          throw new CliError(`no task ${opts.task} in DAG ${chosen.manifest.dagId}`);
        }
        const { runDagTest } = await import('./dags-test.ts');
        const pools = new Map<string, number>();
        for (const spec of opts.pool ?? []) {
          const match = /^([^=]+)=(-1|\d+)$/.exec(spec);
          if (!match) throw new CliError(`--pool ${spec}: use name=slots, e.g. --pool warehouse=8`);
          pools.set(match[1]!, Number(match[2]));
        }
        const state = await runDagTest({ ...chosen, logicalDate, conf, onlyTask: opts.task, pools });
        process.exitCode = state === 'success' ? EXIT.ok : EXIT.failed;
      },
    );
  return dags;
}

export { compileAll, loadPath, registerDagsCommands };
