import { describe, expect, it } from 'vitest';
import { renderTemplate, templateEnv } from '#core/template.ts';

const values = {
  dagId: 'etl',
  runId: 'scheduled__2026-01-05T00:00:00+00:00',
  taskId: 'load',
  tryNumber: 2,
  logicalDate: Date.parse('2026-01-05T00:00:00Z'),
  dataIntervalStart: Date.parse('2026-01-05T00:00:00Z'),
  dataIntervalEnd: Date.parse('2026-01-06T00:00:00Z'),
  params: { table: 'events', nested: { limit: 10 } },
  conf: { full: true },
};

describe('renderTemplate', () => {
  it('fills in the run variables Airflow users know', () => {
    expect(
      renderTemplate(
        'load {{ ds }} {{ds_nodash}} until {{ data_interval_end }} try {{ try_number }}',
        values,
      ),
    ).toBe('load 2026-01-05 20260105 until 2026-01-06T00:00:00.000Z try 2');
  });

  it('reads params and conf, JSON-encoding what is not a string', () => {
    expect(renderTemplate('{{ params.table }} {{ params.nested.limit }} {{ conf.full }}', values)).toBe(
      'events 10 true',
    );
  });

  it('refuses an unknown variable instead of rendering it empty', () => {
    expect(() => renderTemplate('echo {{ dss }}', values)).toThrow(/unknown template variable \{\{ dss \}\}/);
    expect(() => renderTemplate('echo {{ params.missing }}', values)).toThrow(
      /params.missing \}\} is not set/,
    );
  });

  it('refuses a Jinja expression instead of passing it to bash', () => {
    expect(() => renderTemplate('echo {{ macros.ds_add(ds, 1) }}', values)).toThrow(
      /\{\{ macros.ds_add\(ds, 1\) \}\} is not a template variable/,
    );
  });

  it('does not read inherited properties as variables', () => {
    expect(() => renderTemplate('{{ constructor }}', values)).toThrow(/unknown template variable/);
    expect(() => renderTemplate('{{ params.table.length }}', values)).toThrow(/is not set/);
  });

  it('renders ts_nodash as Airflow does', () => {
    expect(renderTemplate('{{ ts_nodash }}', values)).toBe('20260105T000000');
  });

  it('exposes the same values as environment variables', () => {
    expect(templateEnv(values)).toMatchObject({
      UPDRAFT_DS: '2026-01-05',
      UPDRAFT_DAG_ID: 'etl',
      UPDRAFT_TRY_NUMBER: '2',
    });
  });
});
