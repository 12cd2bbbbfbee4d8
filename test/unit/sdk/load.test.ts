import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import { loadDagDir, loadDagFile } from '#sdk/load.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/dags');

describe('loadDagFile', () => {
  it('collects every DAG a file exports, default and named', async () => {
    const result = await loadDagFile(join(FIXTURES, 'good.ts'));
    expect(result.error).toBeNull();
    expect(result.dags.map((d) => d.dagId).sort()).toEqual(['fixture_good', 'fixture_second']);
  });

  it('turns a file that throws on import into a one-line import error', async () => {
    const result = await loadDagFile(join(FIXTURES, 'throws.ts'));
    expect(result.dags).toEqual([]);
    expect(result.error?.message).toBe('cannot load throws.ts: the warehouse connection string is not set');
  });

  it('reports a file that exports no DAG', async () => {
    const result = await loadDagFile(join(FIXTURES, 'nothing.ts'));
    expect(result.error?.message).toMatch(/nothing\.ts exports no DAG/);
  });

  it('loads a cyclic DAG, which compile then rejects with its cycle', async () => {
    const result = await loadDagFile(join(FIXTURES, 'cyclic.ts'));
    expect(() => compileDag(result.dags[0]!)).toThrow('dependency cycle: a → b → a');
  });
});

describe('loadDagDir', () => {
  it('loads every DAG file of a folder, skipping _ files, and lists import errors', async () => {
    const { dags, errors } = await loadDagDir(FIXTURES);
    expect(dags.map((d) => d.dag.dagId).sort()).toEqual(['fixture_cyclic', 'fixture_good', 'fixture_second']);
    expect(errors.map((e) => e.message).sort()).toEqual([
      'cannot load throws.ts: the warehouse connection string is not set',
      'nothing.ts exports no DAG (export default dag(...))',
    ]);
  });
});
