import { describe, expect, it } from 'vitest';
import { compileDag } from '#core/compile.ts';
import { contentHash, stableStringify } from '#core/hash.ts';
import type { DagOptions } from '#sdk/index.ts';
import { dag } from '#sdk/index.ts';

const noop = async () => null;

describe('stableStringify', () => {
  it('sorts the keys of every object, at every depth', () => {
    expect(stableStringify({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
    );
  });

  it('writes what JSON.stringify writes, apart from key order', () => {
    const value = {
      s: 'quote " and \n',
      n: -0,
      big: 1e21,
      u: undefined,
      f: () => 1,
      list: [undefined, Number.NaN, 'x'],
      d: new Date(0),
    };
    expect(JSON.parse(stableStringify(value)!)).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('gives objects with the same content the same text whatever their key order', () => {
    const many = Array.from({ length: 50 }, (_, i) => (i % 2 ? { a: i, b: 'x' } : { b: 'x', a: i }));
    const reordered = many.map((o) => ({ b: o.b, a: o.a }));
    expect(stableStringify(many)).toBe(stableStringify(reordered));
  });
});

describe('contentHash', () => {
  it('is 16 hex characters that differ when the value differs', () => {
    expect(contentHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
    expect(contentHash({ a: 1 })).toBe(contentHash({ a: 1 }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
    expect(contentHash(['a', 'b'])).not.toBe(contentHash(['b', 'a']));
  });
});

describe('DAG version hash', () => {
  const options = (): DagOptions => ({
    schedule: '@daily',
    startDate: '2026-01-01',
    tags: ['b', 'a'],
    params: { table: 'orders', limits: { rows: 10, bytes: 5 } },
    defaultArgs: { retries: 2, pool: 'etl' },
  });
  const build = (opts: DagOptions, order: 'forward' | 'backward' = 'forward') =>
    dag('h', opts, (d) => {
      const make = {
        a: () => d.task('a', { retries: 1, priorityWeight: 2 }, noop),
        b: () => d.shell('b', { command: 'echo {{ ds }}', env: { X: '1', Y: '2' } }),
      };
      const [a, b] = order === 'forward' ? [make.a(), make.b()] : [make.b(), make.a()].reverse();
      a!.then(b!);
    });

  it('is the hash of the manifest without its hash', () => {
    const { hash, ...body } = compileDag(build(options()));
    expect(hash).toBe(contentHash(body));
  });

  it('stays the same for the same DAG written with other key orders and task order', () => {
    const base = compileDag(build(options())).hash;
    const reordered: DagOptions = {
      defaultArgs: { pool: 'etl', retries: 2 },
      params: { limits: { bytes: 5, rows: 10 }, table: 'orders' },
      tags: ['a', 'b'],
      startDate: '2026-01-01',
      schedule: '@daily',
    };
    expect(compileDag(build(reordered)).hash).toBe(base);
    expect(compileDag(build(options(), 'backward')).hash).toBe(base);
  });

  it.each([
    {
      change: 'a task option',
      tweak: (o: DagOptions) => ({ ...o, defaultArgs: { retries: 3, pool: 'etl' } }),
    },
    {
      change: 'a nested param',
      tweak: (o: DagOptions) => ({ ...o, params: { table: 'orders', limits: { rows: 11, bytes: 5 } } }),
    },
    { change: 'the schedule', tweak: (o: DagOptions) => ({ ...o, schedule: '@hourly' }) },
    { change: 'the timezone', tweak: (o: DagOptions) => ({ ...o, timezone: 'Europe/Paris' }) },
    { change: 'a tag', tweak: (o: DagOptions) => ({ ...o, tags: ['a'] }) },
    { change: 'a DAG callback', tweak: (o: DagOptions) => ({ ...o, onFailure: () => {} }) },
  ])('changes when $change changes', ({ tweak }) => {
    expect(compileDag(build(tweak(options()))).hash).not.toBe(compileDag(build(options())).hash);
  });

  it('changes when an edge is added', () => {
    const without = dag('e', {}, (d) => {
      d.task('a', noop);
      d.task('b', noop);
    });
    const withEdge = dag('e', {}, (d) => void d.task('a', noop).then(d.task('b', noop)));
    expect(compileDag(withEdge).hash).not.toBe(compileDag(without).hash);
  });
});
