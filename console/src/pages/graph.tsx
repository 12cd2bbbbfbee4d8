/**
 * The graph: the DAG laid out left to right by dagre, each task a node colored by its state in the
 * selected run, edges with arrows. Clicking a node opens its task instance.
 */
import { Graph as LayoutGraph, layout } from '@dagrejs/dagre';
import { useMemo, useRef, useState } from 'react';
import type { Task, TaskInstance } from '../api/types.ts';
import { cellState, tiStyle } from '../lib/states.ts';

const NODE_H = 44;
const CHAR_W = 7.4;

interface Laid {
  width: number;
  height: number;
  nodes: { task: Task; x: number; y: number; w: number }[];
  edges: { from: string; to: string; path: string }[];
}

function lay(tasks: Task[]): Laid {
  const g = new LayoutGraph<{ rankdir: string }, { width: number; height: number; x?: number; y?: number }>();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, marginx: 12, marginy: 12 } as never);
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(tasks.map((t) => t.taskId));
  // Wide enough for the id (monospace) and for "upstream failed · function" below it.
  const width = (t: Task) => Math.max(150, t.taskId.length * CHAR_W + 36, (t.kind.length + 20) * 6.2 + 28);
  for (const t of tasks) g.setNode(t.taskId, { width: width(t), height: NODE_H });
  for (const t of tasks) for (const d of t.downstream) if (known.has(d)) g.setEdge(t.taskId, d);
  layout(g);
  const label = g.graph() as unknown as { width?: number; height?: number };
  const nodes = tasks.map((task) => {
    const n = g.node(task.taskId);
    return { task, x: n.x ?? 0, y: n.y ?? 0, w: n.width };
  });
  const edges = g.edges().map((e) => {
    const points = (g.edge(e) as { points?: { x: number; y: number }[] }).points ?? [];
    const [first, ...rest] = points;
    const path = first ? `M${first.x},${first.y} ${rest.map((p) => `L${p.x},${p.y}`).join(' ')}` : '';
    return { from: e.v, to: e.w, path };
  });
  return { width: label.width ?? 0, height: label.height ?? 0, nodes, edges };
}

interface GraphProps {
  tasks: Task[];
  tis: TaskInstance[] | undefined;
  selectedTask: string | null;
  onSelectTask: (taskId: string) => void;
}

function DagGraph({ tasks, tis, selectedTask, onSelectTask }: GraphProps) {
  const laid = useMemo(() => lay(tasks), [tasks]);
  const [scale, setScale] = useState(1);
  const box = useRef<HTMLDivElement>(null);
  const fit = () => {
    const el = box.current;
    if (!el || laid.width === 0) return;
    const s = Math.min(el.clientWidth / laid.width, (window.innerHeight * 0.7) / laid.height);
    setScale(Math.max(0.2, Math.min(1.5, s)));
  };
  const zoom = (factor: number) => setScale((s) => Math.max(0.2, Math.min(2, s * factor)));
  const byTask = useMemo(() => {
    const m = new Map<string, TaskInstance[]>();
    for (const ti of tis ?? []) m.set(ti.taskId, [...(m.get(ti.taskId) ?? []), ti]);
    return m;
  }, [tis]);
  if (tasks.length === 0) return <p className="muted">This DAG has no tasks.</p>;
  const related = new Set<string>();
  if (selectedTask) {
    const t = tasks.find((x) => x.taskId === selectedTask);
    for (const id of [...(t?.upstream ?? []), ...(t?.downstream ?? [])]) related.add(id);
  }
  return (
    <>
      <div className="graph-tools" role="toolbar" aria-label="Zoom">
        <button type="button" onClick={() => zoom(1 / 1.25)} aria-label="Zoom out">
          −
        </button>
        <span className="muted">{Math.round(scale * 100)}%</span>
        <button type="button" onClick={() => zoom(1.25)} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={fit}>
          Fit
        </button>
        <button type="button" onClick={() => setScale(1)} disabled={scale === 1}>
          100%
        </button>
      </div>
      <div className="graph-scroll" ref={box}>
        <svg
          className="graph"
          width={laid.width * scale}
          height={laid.height * scale}
          viewBox={`0 0 ${laid.width} ${laid.height}`}
          role="img"
          aria-label="DAG graph"
        >
          <defs>
            <marker
              id="arrow"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" fill="var(--edge)" />
            </marker>
          </defs>
          {laid.edges.map((e) => (
            <path
              key={`${e.from}->${e.to}`}
              d={e.path}
              className={`edge${selectedTask && (e.from === selectedTask || e.to === selectedTask) ? ' hot' : ''}`}
              markerEnd="url(#arrow)"
            />
          ))}
          {laid.nodes.map(({ task, x, y, w }) => {
            const state = cellState(byTask.get(task.taskId));
            const s = state ? tiStyle(state) : null;
            const selected = task.taskId === selectedTask;
            return (
              // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>.
              <g
                key={task.taskId}
                transform={`translate(${x - w / 2},${y - NODE_H / 2})`}
                className={`node${selected ? ' selected' : ''}${related.has(task.taskId) ? ' related' : ''}`}
                role="button"
                tabIndex={0}
                aria-label={`${task.taskId}: ${s?.label ?? 'not in this run'}`}
                data-task={task.taskId}
                data-state={state ?? 'absent'}
                onClick={() => onSelectTask(task.taskId)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') onSelectTask(task.taskId);
                }}
              >
                <title>{`${task.taskId}\n${s ? s.label : 'not in this run'} · ${task.kind}${task.pool !== 'default_pool' ? ` · pool ${task.pool}` : ''}`}</title>
                <rect
                  width={w}
                  height={NODE_H}
                  rx={8}
                  className="node-box"
                  style={
                    s
                      ? { fill: `color-mix(in srgb, ${s.color} 14%, var(--surface))`, stroke: s.color }
                      : undefined
                  }
                />
                <rect
                  width={8}
                  height={NODE_H}
                  rx={4}
                  fill={s?.color ?? 'var(--none)'}
                  className={`node-state${state === 'running' ? ' pulse' : ''}`}
                />
                <text x={18} y={19} className="node-title">
                  {task.taskId}
                </text>
                <text x={18} y={34} className="node-sub">
                  {s ? s.label : 'no instance'} · {task.kind}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
    </>
  );
}

export { DagGraph };
