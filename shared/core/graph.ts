/**
 * The dependency graph of a DAG's tasks, indexed once: task ids sorted, edges as sorted index
 * lists in both directions. Cycle search and topological order run on it iteratively, so a
 * 10,000-task chain needs no deep recursion.
 */

export interface TaskGraph {
  /** Task ids, sorted; a task's index is its position here, so index order is id order. */
  readonly ids: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  /** Direct upstream indexes per task, sorted, without duplicates or unknown ids. */
  readonly up: readonly (readonly number[])[];
  /** Direct downstream indexes per task, sorted. */
  readonly down: readonly (readonly number[])[];
}

/** Edges to ids that are not in `ids` are left out (compile reports them separately). */
function indexGraph(ids: Iterable<string>, upstreamOf: (id: string) => Iterable<string>): TaskGraph {
  const sorted = [...new Set(ids)].sort();
  const index = new Map(sorted.map((id, i) => [id, i]));
  const up: number[][] = [];
  const down: number[][] = sorted.map(() => []);
  for (let i = 0; i < sorted.length; i += 1) {
    const mine = new Set<number>();
    for (const id of upstreamOf(sorted[i]!)) {
      const j = index.get(id);
      if (j !== undefined) mine.add(j);
    }
    const list = [...mine].sort((a, b) => a - b);
    up.push(list);
    // Visiting i in increasing order keeps every downstream list sorted.
    for (const j of list) down[j]!.push(i);
  }
  return { ids: sorted, index, up, down };
}

/**
 * The first cycle found, in run order (upstream first) and starting from its smallest id, closed
 * on itself: `['a', 'b', 'c', 'a']` for a → b → c → a. Null when the graph is acyclic.
 */
function findCycle(graph: TaskGraph): string[] | null {
  const n = graph.ids.length;
  const state = new Uint8Array(n); // 0 = unvisited, 1 = on the current path, 2 = done
  const path: number[] = [];
  const cursor: number[] = [];
  for (let root = 0; root < n; root += 1) {
    if (state[root] !== 0) continue;
    path.push(root);
    cursor.push(0);
    state[root] = 1;
    while (path.length > 0) {
      const top = path.length - 1;
      const node = path[top]!;
      const edges = graph.down[node]!;
      const next = cursor[top]!;
      if (next >= edges.length) {
        state[node] = 2;
        path.pop();
        cursor.pop();
        continue;
      }
      cursor[top] = next + 1;
      const child = edges[next]!;
      if (state[child] === 1) return closeCycle(graph, path.slice(path.indexOf(child)));
      if (state[child] === 0) {
        state[child] = 1;
        path.push(child);
        cursor.push(0);
      }
    }
  }
  return null;
}

function closeCycle(graph: TaskGraph, cycle: number[]): string[] {
  const smallest = cycle.indexOf(Math.min(...cycle));
  const rotated = [...cycle.slice(smallest), ...cycle.slice(0, smallest)];
  return [...rotated, rotated[0]!].map((i) => graph.ids[i]!);
}

/** Kahn's algorithm; among tasks ready at the same time the smaller id comes first. Requires no cycle. */
function topologicalOrder(graph: TaskGraph): number[] {
  const n = graph.ids.length;
  const waiting = Int32Array.from(graph.up, (edges) => edges.length);
  const ready = new MinHeap();
  for (let i = 0; i < n; i += 1) if (waiting[i] === 0) ready.push(i);
  const order: number[] = [];
  while (ready.size > 0) {
    const node = ready.pop();
    order.push(node);
    for (const child of graph.down[node]!) {
      waiting[child]! -= 1;
      if (waiting[child] === 0) ready.push(child);
    }
  }
  if (order.length !== n) throw new Error('topologicalOrder: the graph has a cycle');
  return order;
}

/** A binary min-heap of task indexes. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && items[right]! < items[left]! ? right : left;
      if (items[child]! >= last) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

export { findCycle, indexGraph, topologicalOrder };
