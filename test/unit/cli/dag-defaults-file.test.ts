import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DAG_DEFAULTS } from '#core/dag-defaults.ts';
import { readDagDefaults } from '../../../cli/commands/dag-defaults-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'updraft-dag-defaults-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('--dag-defaults <file>', () => {
  it('reads the construct prop’s fields, durations as in DAG options, over Airflow’s', async () => {
    const path = file(
      'ok.json',
      '{ "maxActiveRuns": 4, "retries": 2, "retryDelay": "1m", "executionTimeout": "2h" }',
    );
    expect(await readDagDefaults(path)).toEqual({
      ...DEFAULT_DAG_DEFAULTS,
      maxActiveRuns: 4,
      retries: 2,
      retryDelayMs: 60_000,
      executionTimeoutMs: 7_200_000,
    });
    expect(await readDagDefaults(undefined)).toEqual(DEFAULT_DAG_DEFAULTS);
  });

  it.each([
    {
      case: 'a zero limit',
      text: '{ "maxActiveTasks": 0 }',
      error: 'maxActiveTasks: must be a whole number ≥ 1',
    },
    {
      case: 'a typo',
      text: '{ "maxActiveTask": 1 }',
      error: 'maxActiveTask: unknown option (did you mean maxActiveTasks?)',
    },
    { case: 'a bad duration', text: '{ "retryDelay": "soon" }', error: 'retryDelay: must be a duration' },
    { case: 'not an object', text: '[1]', error: '(root): must be an object of DAG defaults' },
    { case: 'not JSON', text: '{', error: 'is not valid JSON' },
  ])('refuses $case with one line naming the field', async ({ case: name, text, error }) => {
    const path = file(`${name.replace(/\W/g, '-')}.json`, text);
    await expect(readDagDefaults(path)).rejects.toThrow(error);
  });

  it('names a missing file', async () => {
    await expect(readDagDefaults(join(dir, 'absent.json'))).rejects.toThrow('--dag-defaults');
  });
});
