/** Graph checks and orderings over task ids: cycles (with their path) and a deterministic topological order. */

/** The first cycle found, as a path that starts and ends with the same task (`a → b → a`), or null. Iterative. */
function findCycle(ids: string[], upstream: (id: string) => Iterable<string>): string[] | null {
  const known = new Set(ids);
  const state = new Map<string, 1 | 2>(); // 1 = on the current path, 2 = done
  for (const root of [...ids].sort()) {
    if (state.has(root)) continue;
    const stack: { id: string; next: Iterator<string> }[] = [
      { id: root, next: sortedIter(upstream(root), known) },
    ];
    state.set(root, 1);
    while (stack.length > 0) {
      const frame = stack.at(-1)!;
      const step = frame.next.next();
      if (step.done) {
        state.set(frame.id, 2);
        stack.pop();
        continue;
      }
      const child = step.value;
      const seen = state.get(child);
      if (seen === 1) {
        const path = stack.map((f) => f.id);
        const cycle = path.slice(path.indexOf(child));
        // Edges point upstream; print the cycle in run order (upstream → downstream), from its smallest id.
        const runOrder = cycle.reverse();
        const start = runOrder.indexOf([...runOrder].sort()[0]!);
        const rotated = [...runOrder.slice(start), ...runOrder.slice(0, start)];
        return [...rotated, rotated[0]!];
      }
      if (seen === undefined) {
        state.set(child, 1);
        stack.push({ id: child, next: sortedIter(upstream(child), known) });
      }
    }
  }
  return null;
}

function sortedIter(ids: Iterable<string>, known: Set<string>): Iterator<string> {
  return [...ids]
    .filter((id) => known.has(id))
    .sort()
    [Symbol.iterator]();
}

/** Kahn's algorithm; among tasks ready at the same time, the smaller id comes first. Assumes no cycle. */
function topologicalOrder(ids: string[], upstream: (id: string) => Iterable<string>): string[] {
  const known = new Set(ids);
  const downstream = new Map<string, string[]>(ids.map((id) => [id, []]));
  const waiting = new Map<string, number>();
  for (const id of ids) {
    let n = 0;
    for (const up of upstream(id)) {
      if (!known.has(up)) continue;
      downstream.get(up)!.push(id);
      n += 1;
    }
    waiting.set(id, n);
  }
  const ready = ids.filter((id) => waiting.get(id) === 0).sort();
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const down of downstream.get(id)!) {
      const left = waiting.get(down)! - 1;
      waiting.set(down, left);
      if (left === 0) insertSorted(ready, down);
    }
  }
  return order;
}

function insertSorted(list: string[], value: string): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, value);
}

export { findCycle, topologicalOrder };
