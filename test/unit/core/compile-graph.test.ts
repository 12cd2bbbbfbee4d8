import { describe, expect, it } from 'vitest';
import { findCycle, indexGraph, topologicalOrder } from '#core/graph.ts';

/** A graph from `upstream → downstream` pairs. */
function graphOf(ids: string[], edges: [string, string][]) {
  return indexGraph(ids, (id) => edges.filter(([, down]) => down === id).map(([up]) => up));
}

const chain = (n: number) => {
  const ids = Array.from({ length: n }, (_, i) => `t${String(i).padStart(5, '0')}`);
  return { ids, edges: ids.slice(1).map((id, i) => [ids[i]!, id] as [string, string]) };
};

describe('indexGraph', () => {
  it('sorts ids, drops duplicate edges and edges to unknown tasks, and indexes both directions', () => {
    const graph = indexGraph(
      ['c', 'a', 'b'],
      (id) => ({ a: [], b: ['a', 'a', 'ghost'], c: ['b', 'a'] })[id]!,
    );
    expect(graph.ids).toEqual(['a', 'b', 'c']);
    expect(graph.up).toEqual([[], [0], [0, 1]]);
    expect(graph.down).toEqual([[1, 2], [2], []]);
  });
});

describe('findCycle', () => {
  it('returns null for a DAG', () => {
    expect(
      findCycle(
        graphOf(
          ['a', 'b', 'c'],
          [
            ['a', 'b'],
            ['a', 'c'],
            ['b', 'c'],
          ],
        ),
      ),
    ).toBeNull();
  });

  it('prints the cycle in run order, from its smallest id, closed on itself', () => {
    const graph = graphOf(
      ['x', 'd', 'c', 'b'],
      [
        ['x', 'c'],
        ['c', 'd'],
        ['d', 'b'],
        ['b', 'c'],
      ],
    );
    expect(findCycle(graph)).toEqual(['b', 'c', 'd', 'b']);
  });

  it('finds a self-dependency', () => {
    expect(findCycle(graphOf(['a'], [['a', 'a']]))).toEqual(['a', 'a']);
  });

  it('walks 10,000 tasks without recursion, with or without a cycle', () => {
    const { ids, edges } = chain(10_000);
    expect(findCycle(graphOf(ids, []))).toBeNull();
    const byDown = new Map(edges.map(([up, down]) => [down, [up]]));
    expect(findCycle(indexGraph(ids, (id) => byDown.get(id) ?? []))).toBeNull();
    byDown.set(ids[0]!, [ids.at(-1)!]);
    const cycle = findCycle(indexGraph(ids, (id) => byDown.get(id) ?? []));
    expect(cycle).toHaveLength(10_001);
    expect([cycle?.[0], cycle?.[1], cycle?.at(-2), cycle?.at(-1)]).toEqual([
      't00000',
      't00001',
      't09999',
      't00000',
    ]);
  });
});

describe('topologicalOrder', () => {
  it('puts every task after its upstream, the smaller id first among ready tasks', () => {
    const graph = graphOf(
      ['z', 'b', 'a', 'c', 'y'],
      [
        ['z', 'a'],
        ['b', 'a'],
        ['b', 'c'],
        ['c', 'y'],
      ],
    );
    expect(topologicalOrder(graph).map((i) => graph.ids[i])).toEqual(['b', 'c', 'y', 'z', 'a']);
  });

  it('refuses a graph with a cycle instead of dropping tasks', () => {
    expect(() =>
      topologicalOrder(
        graphOf(
          ['a', 'b'],
          [
            ['a', 'b'],
            ['b', 'a'],
          ],
        ),
      ),
    ).toThrow('cycle');
  });
});
