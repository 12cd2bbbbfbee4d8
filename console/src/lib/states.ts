/**
 * The visual language of states: Airflow's colors (its users read a grid at a glance), the same
 * everywhere — dots, grid cells, graph nodes, gantt bars, badges. Every state also has words, so
 * nothing depends on telling colors apart.
 */
import type { RunState, TaskInstance, TiState } from '../api/types.ts';

interface StateStyle {
  /** Fill. */
  color: string;
  /** Text on the fill. */
  ink: string;
  label: string;
  /** One line for tooltips and the legend. */
  meaning: string;
}

const TI: Record<TiState, StateStyle> = {
  none: {
    color: '#ffffff',
    ink: '#4b5563',
    label: 'no status',
    meaning: 'not ready yet: its upstream tasks are not done',
  },
  scheduled: { color: '#d2b48c', ink: '#3b2c16', label: 'scheduled', meaning: 'ready; waiting for a slot' },
  queued: { color: '#8c8c8c', ink: '#ffffff', label: 'queued', meaning: 'holds its slots; sent to a worker' },
  running: { color: '#3fd83f', ink: '#0b3d0b', label: 'running', meaning: 'a worker runs it' },
  success: { color: '#108a10', ink: '#ffffff', label: 'success', meaning: 'finished successfully' },
  failed: { color: '#e02b2b', ink: '#ffffff', label: 'failed', meaning: 'failed with no retries left' },
  up_for_retry: {
    color: '#f5c400',
    ink: '#3d3000',
    label: 'up for retry',
    meaning: 'failed; will be retried',
  },
  up_for_reschedule: {
    color: '#40d0c8',
    ink: '#06403d',
    label: 'up for reschedule',
    meaning: 'a sensor that will poke again',
  },
  upstream_failed: {
    color: '#ff9a1f',
    ink: '#3d2100',
    label: 'upstream failed',
    meaning: 'will not run: an upstream task failed',
  },
  skipped: { color: '#ff69b4', ink: '#4a0f2c', label: 'skipped', meaning: 'will not run: skipped' },
  removed: { color: '#d4d4d4', ink: '#404040', label: 'removed', meaning: 'the task left the DAG' },
};

const RUN: Record<RunState, StateStyle> = {
  queued: { color: TI.queued.color, ink: TI.queued.ink, label: 'queued', meaning: 'waiting to start' },
  running: {
    color: TI.running.color,
    ink: TI.running.ink,
    label: 'running',
    meaning: 'task instances in flight',
  },
  success: { color: TI.success.color, ink: TI.success.ink, label: 'success', meaning: 'every task done' },
  failed: { color: TI.failed.color, ink: TI.failed.ink, label: 'failed', meaning: 'a task failed' },
};

const TI_ORDER: TiState[] = [
  'success',
  'running',
  'queued',
  'scheduled',
  'up_for_retry',
  'up_for_reschedule',
  'failed',
  'upstream_failed',
  'skipped',
  'removed',
  'none',
];

const tiStyle = (state: TiState): StateStyle => TI[state];
const runStyle = (state: RunState): StateStyle => RUN[state];

const FINISHED_TI = new Set<TiState>(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);
const isFinishedTi = (state: TiState) => FINISHED_TI.has(state);
const isFinishedRun = (state: RunState) => state === 'success' || state === 'failed';

/** Which state a mapped task's cell shows: the one that needs attention first. */
const ATTENTION: TiState[] = [
  'failed',
  'up_for_retry',
  'running',
  'queued',
  'up_for_reschedule',
  'scheduled',
  'upstream_failed',
  'none',
  'skipped',
  'removed',
  'success',
];

/** The state a grid cell or graph node shows for a task's instances (several when mapped). */
function cellState(tis: Pick<TaskInstance, 'state'>[] | undefined): TiState | null {
  if (!tis || tis.length === 0) return null;
  if (tis.length === 1) return tis[0]!.state;
  for (const s of ATTENTION) if (tis.some((t) => t.state === s)) return s;
  return tis[0]!.state;
}

export { cellState, isFinishedRun, isFinishedTi, runStyle, type StateStyle, TI_ORDER, tiStyle };
