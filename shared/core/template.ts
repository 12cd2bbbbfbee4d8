/**
 * `{{ name }}` templating of shell commands and container arguments, with Airflow's variable
 * names: ds, ds_nodash, ts, ts_nodash, logical_date, data_interval_start, data_interval_end, run_id, dag_id,
 * task_id, try_number, params.X and conf.X. An unknown name is an error, never an empty string.
 */
import { UpdraftError } from './errors.ts';

export interface TemplateValues {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  logicalDate: number;
  dataIntervalStart: number;
  dataIntervalEnd: number;
  params: Record<string, unknown>;
  conf: Record<string, unknown>;
}

class TemplateError extends UpdraftError {
  override name = 'TemplateError';
}

const iso = (t: number) => new Date(t).toISOString();

function variables(v: TemplateValues): Record<string, string> {
  const ds = iso(v.logicalDate).slice(0, 10);
  return {
    ds,
    ds_nodash: ds.replaceAll('-', ''),
    ts: iso(v.logicalDate),
    ts_nodash: iso(v.logicalDate).slice(0, 19).replaceAll('-', '').replaceAll(':', ''),
    logical_date: iso(v.logicalDate),
    data_interval_start: iso(v.dataIntervalStart),
    data_interval_end: iso(v.dataIntervalEnd),
    run_id: v.runId,
    dag_id: v.dagId,
    task_id: v.taskId,
    try_number: String(v.tryNumber),
  };
}

function lookup(name: string, v: TemplateValues, vars: Record<string, string>): string {
  if (Object.hasOwn(vars, name)) return vars[name]!;
  const [scope, ...rest] = name.split('.');
  if ((scope === 'params' || scope === 'conf') && rest.length > 0) {
    let value: unknown = scope === 'params' ? v.params : v.conf;
    for (const part of rest)
      value =
        value && typeof value === 'object' && Object.hasOwn(value, part)
          ? (value as Record<string, unknown>)[part]
          : undefined;
    if (value !== undefined) return typeof value === 'string' ? value : JSON.stringify(value);
    throw new TemplateError(`template variable {{ ${name} }} is not set for this run`);
  }
  throw new TemplateError(
    `unknown template variable {{ ${name} }} (known: ${Object.keys(vars).join(', ')}, params.X, conf.X)`,
  );
}

const PLACEHOLDER = /\{\{(.*?)\}\}/g;
const NAME = /^\s*([A-Za-z_][\w.]*)\s*$/;

/**
 * Replaces every `{{ name }}`. Only plain names are supported: a Jinja expression such as
 * `{{ macros.ds_add(ds, 1) }}` or `{{ ds | upper }}` is an error rather than text passed to bash.
 */
function renderTemplate(text: string, values: TemplateValues): string {
  const vars = variables(values);
  return text.replace(PLACEHOLDER, (whole: string, inner: string) => {
    const name = NAME.exec(inner)?.[1];
    if (name === undefined)
      throw new TemplateError(
        `${whole} is not a template variable: only plain names such as {{ ds }} or {{ params.table }} are filled in`,
      );
    return lookup(name, values, vars);
  });
}

/** The same values as environment variables (UPDRAFT_DS, UPDRAFT_RUN_ID, …) for shell tasks. */
function templateEnv(values: TemplateValues): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables(values)).map(([k, v]) => [`UPDRAFT_${k.toUpperCase()}`, v]),
  );
}

export { renderTemplate, TemplateError, templateEnv };
