import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import { DagValidationError } from '#core/errors.ts';
import { loadDagDir, loadDagFile } from '#sdk/load.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/dags');
/** Files outside the repository reach the SDK by path ('updraft/sdk' resolves inside it only). */
const SDK = pathToFileURL(join(import.meta.dirname, '../../../shared/sdk/index.ts')).href;

describe('loadDagFile', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'updraft-load-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('collects every DAG a file exports, default and named', async () => {
    const result = await loadDagFile(join(FIXTURES, 'good.ts'));
    expect(result.error).toBeNull();
    expect(result.dags.map((d) => d.dagId).sort()).toEqual(['fixture_good', 'fixture_second']);
  });

  it('collects DAGs exported in an array, counting a DAG exported twice once', async () => {
    const result = await loadDagFile(join(FIXTURES, 'more/array.ts'));
    expect(result.error).toBeNull();
    expect(result.dags.map((d) => d.dagId)).toEqual(['copy_orders', 'copy_users']);
  });

  it('turns a file that throws on import into a one-line import error', async () => {
    const result = await loadDagFile(join(FIXTURES, 'throws.ts'));
    expect(result).toEqual({
      dags: [],
      error: {
        fileloc: join(FIXTURES, 'throws.ts'),
        message: 'cannot load throws.ts: the warehouse connection string is not set',
      },
    });
  });

  it('reports a file that exports no DAG', async () => {
    const result = await loadDagFile(join(FIXTURES, 'nothing.ts'));
    expect(result.dags).toEqual([]);
    expect(result.error?.message).toBe('nothing.ts exports no DAG (export default dag(...))');
  });

  it('reports a file that defines two DAGs with the same id', async () => {
    const result = await loadDagFile(join(FIXTURES, 'more/twice.ts'));
    expect(result.dags).toEqual([]);
    expect(result.error?.message).toBe('twice.ts defines DAG same_id twice: give each DAG its own id');
  });

  it('loads a cyclic DAG, which compile then rejects with its cycle', async () => {
    const result = await loadDagFile(join(FIXTURES, 'cyclic.ts'));
    expect(result.error).toBeNull();
    expect(() => compileDag(result.dags[0]!)).toThrow(DagValidationError);
    expect(() => compileDag(result.dags[0]!)).toThrow('dependency cycle: a → b → a');
  });

  it('reports a syntax error on one line, with its position and no stack', async () => {
    const file = join(scratch, 'broken.ts');
    await writeFile(file, "import { dag } from 'updraft/sdk';\nexport default dag('x', {,}, () => {});\n");
    const result = await loadDagFile(file);
    expect(result.dags).toEqual([]);
    expect(result.error?.message).toMatch(/^cannot load broken\.ts: syntax error at line 2:\d+: \S/);
    expect(result.error?.message).not.toContain('\n');
  });

  it('reports a missing import on one line', async () => {
    const file = join(scratch, 'missing.ts');
    await writeFile(file, "import { helper } from './not-there.ts';\nexport default helper;\n");
    const result = await loadDagFile(file);
    expect(result.error?.message).toMatch(/^cannot load missing\.ts: Cannot find module '\.\/not-there\.ts'/);
    expect(result.error?.message).not.toContain('\n');
  });

  it('reports a value thrown without an Error', async () => {
    const file = join(scratch, 'string-throw.ts');
    await writeFile(file, "throw 'no credentials';\n");
    const result = await loadDagFile(file);
    expect(result.error?.message).toBe('cannot load string-throw.ts: no credentials');
  });

  it('re-imports a changed file when given a cache-busting key', async () => {
    const file = join(scratch, 'changing.ts');
    const write = (id: string) =>
      writeFile(
        file,
        `import { dag } from '${SDK}';\nexport default dag('${id}', {}, (d) => void d.empty('a'));\n`,
      );
    await write('before_change');
    expect((await loadDagFile(file, { cacheBust: '1' })).dags[0]?.dagId).toBe('before_change');
    await write('after_change');
    expect((await loadDagFile(file, { cacheBust: '2' })).dags[0]?.dagId).toBe('after_change');
  });
});

describe('loadDagDir', () => {
  it('loads every DAG file of a folder, skipping _ files and sub-folders, and lists import errors', async () => {
    const { dags, errors } = await loadDagDir(FIXTURES);
    expect(dags.map((d) => d.dag.dagId).sort()).toEqual(['fixture_cyclic', 'fixture_good', 'fixture_second']);
    expect(dags.find((d) => d.dag.dagId === 'fixture_good')?.fileloc).toBe(join(FIXTURES, 'good.ts'));
    expect(errors.map((e) => `${basename(e.fileloc)}: ${e.message}`).sort()).toEqual([
      'nothing.ts: nothing.ts exports no DAG (export default dag(...))',
      'throws.ts: cannot load throws.ts: the warehouse connection string is not set',
    ]);
  });

  it('keeps the first file that defines a DAG id and reports the second, skipping .d.ts files', async () => {
    const { dags, errors } = await loadDagDir(join(FIXTURES, 'duplicates'));
    expect(dags.map((d) => [d.dag.dagId, basename(d.fileloc)])).toEqual([
      ['shared_id', 'first.ts'],
      ['second_only', 'second.ts'],
    ]);
    expect([...dags[0]!.dag.tasks.keys()]).toEqual(['from_first']);
    expect(errors).toEqual([
      {
        fileloc: join(FIXTURES, 'duplicates/second.ts'),
        message: 'DAG shared_id is already defined in first.ts: DAG ids must be unique',
        at: 0,
      },
    ]);
  });
});
