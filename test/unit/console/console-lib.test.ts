/** The console's pure helpers: conf JSON checks, durations, routes, the state a grid cell shows. */
import { describe, expect, it } from 'vitest';
import { formatDuration, formatRelative } from '../../../console/src/lib/format.ts';
import { checkJsonObject } from '../../../console/src/lib/json.ts';
import { parseRoute } from '../../../console/src/lib/route.ts';
import { cellState, tiStyle } from '../../../console/src/lib/states.ts';
import { TI_STATES } from '../../../shared/core/states.ts';

describe('checkJsonObject (the trigger and backfill conf)', () => {
  it('accepts an object, and an empty field as {}', () => {
    expect(checkJsonObject('{"rows": 3, "table": "events"}')).toEqual({
      ok: true,
      value: { rows: 3, table: 'events' },
    });
    expect(checkJsonObject('  ')).toEqual({ ok: true, value: {} });
  });

  it.each([
    { case: 'an array', text: '[1, 2]', message: /must be a JSON object/ },
    { case: 'a number', text: '42', message: /must be a JSON object/ },
    { case: 'null', text: 'null', message: /must be a JSON object/ },
    { case: 'a cut-off object', text: '{"rows": ', message: /ends too early/ },
    { case: 'an unquoted key', text: '{\n  rows: 1\n}', message: /line 2, column 3/ },
  ])('refuses $case and says why', ({ text, message }) => {
    const check = checkJsonObject(text);
    expect(check.ok).toBe(false);
    expect(check.ok === false && check.message).toMatch(message);
  });
});

describe('formatDuration', () => {
  it.each([
    [null, '–'],
    [950, '950 ms'],
    [4_200, '4.2 s'],
    [42_000, '42 s'],
    [185_000, '3m 05s'],
    [7_800_000, '2h 10m'],
    [3 * 86_400_000 + 4 * 3_600_000, '3d 4h'],
  ])('%s ms reads as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('says how far an instant is from now, either way', () => {
    const now = Date.parse('2026-01-05T10:00:00Z');
    expect(formatRelative('2026-01-05T10:04:10Z', now)).toBe('in 4m 10s');
    expect(formatRelative('2026-01-05T09:59:48Z', now)).toBe('12 s ago');
    expect(formatRelative('2026-01-05T10:00:00.500Z', now)).toBe('just now');
    expect(formatRelative(null, now)).toBe('–');
  });
});

describe('parseRoute (hash routes)', () => {
  it('decodes path segments and keeps the query', () => {
    const route = parseRoute('#/dags/etl?run=manual__2026-01-05T00%3A00%3A00%2B00%3A00&task=load');
    expect(route.parts).toEqual(['dags', 'etl']);
    expect(route.params.get('run')).toBe('manual__2026-01-05T00:00:00+00:00');
    expect(route.params.get('task')).toBe('load');
  });

  it('reads an empty hash as the DAG list', () => {
    expect(parseRoute('').parts).toEqual([]);
    expect(parseRoute('#/').parts).toEqual([]);
  });
});

describe('cellState (a grid cell with one or several mapped instances)', () => {
  it('shows the one instance’s state', () => {
    expect(cellState([{ state: 'queued' }])).toBe('queued');
    expect(cellState([])).toBeNull();
    expect(cellState(undefined)).toBeNull();
  });

  it('shows what needs attention first among mapped instances', () => {
    expect(cellState([{ state: 'success' }, { state: 'failed' }, { state: 'running' }])).toBe('failed');
    expect(cellState([{ state: 'success' }, { state: 'running' }])).toBe('running');
    expect(cellState([{ state: 'success' }, { state: 'skipped' }])).toBe('skipped');
  });

  it('has a color and words for every task-instance state', () => {
    for (const state of TI_STATES) {
      expect(tiStyle(state).color).toMatch(/^#[0-9a-f]{6}$/);
      expect(tiStyle(state).label.length).toBeGreaterThan(0);
      expect(cellState([{ state }])).toBe(state);
    }
  });
});
