/** The readable summary of a simulation: runs, peaks beside limits, queue waits and a text gantt. */
import pc from 'picocolors';
import { formatDuration } from '#core/duration.ts';
import type { Peak, SimReport, SimTry } from '#simulator/report.ts';
import { table } from './table.ts';

const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));

function peakRow(label: string, peak: Peak): string[] {
  const limit = peak.limit === null || peak.limit < 0 ? '∞' : String(peak.limit);
  const full = peak.limit !== null && peak.limit > 0 && peak.peak >= peak.limit;
  return [label, `${full ? pc.yellow(String(peak.peak)) : peak.peak} / ${limit}`, peak.at ?? ''];
}

function runsTable(report: SimReport): string {
  const byDag = new Map<string, Record<string, number>>();
  for (const run of report.runs) {
    const row = byDag.get(run.dagId) ?? { success: 0, failed: 0, running: 0, queued: 0 };
    row[run.state] = (row[run.state] ?? 0) + 1;
    byDag.set(run.dagId, row);
  }
  const rows = [...byDag].map(([dagId, c]) => [
    dagId,
    pc.green(String(c.success)),
    c.failed ? pc.red(String(c.failed)) : '0',
    String(c.running),
    String(c.queued),
  ]);
  return table(['DAG', 'SUCCESS', 'FAILED', 'RUNNING', 'QUEUED'], rows);
}

function peaksTable(report: SimReport): string {
  const rows = [peakRow('global (parallelism)', report.peaks.global)];
  for (const [pool, peak] of Object.entries(report.peaks.pools)) rows.push(peakRow(`pool ${pool}`, peak));
  for (const [dag, peak] of Object.entries(report.peaks.dags))
    rows.push(peakRow(`dag ${dag} (maxActiveTasks)`, peak));
  for (const [task, peak] of Object.entries(report.peaks.tasks)) {
    if (peak.limit !== null) rows.push(peakRow(`task ${task} (maxActiveTisPerDag)`, peak));
  }
  return table(['LIMIT', 'PEAK / LIMIT', 'FIRST AT PEAK'], rows);
}

/** The run whose gantt is drawn: the one asked for, else the run with the most tries. */
function pickRun(report: SimReport, runId?: string): { dagId: string; runId: string } | null {
  if (runId) {
    const run = report.runs.find((r) => r.runId === runId || `${r.dagId}/${r.runId}` === runId);
    return run ? { dagId: run.dagId, runId: run.runId } : null;
  }
  const counts = new Map<string, number>();
  for (const t of report.tries)
    counts.set(`${t.dagId}\u0000${t.runId}`, (counts.get(`${t.dagId}\u0000${t.runId}`) ?? 0) + 1);
  const best = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  if (!best) return null;
  const [dagId, id] = best[0].split('\u0000') as [string, string];
  return { dagId, runId: id };
}

function gantt(report: SimReport, target: { dagId: string; runId: string }, width: number): string {
  const tries = report.tries.filter(
    (t) => t.dagId === target.dagId && t.runId === target.runId && t.scheduledAt !== null,
  );
  if (tries.length === 0) return '';
  const from = Math.min(...tries.map((t) => ms(t.scheduledAt)!));
  const to = Math.max(...tries.map((t) => ms(t.endedAt) ?? ms(report.window.end)!));
  const labels = [...new Set(tries.map((t) => t.taskId))];
  const labelWidth = Math.min(28, Math.max(...labels.map((l) => l.length)));
  const cols = Math.max(20, width - labelWidth - 4);
  const scale = (t: number) => Math.min(cols - 1, Math.floor(((t - from) / Math.max(1, to - from)) * cols));
  const rows = labels.map((taskId) => {
    const cells = Array.from({ length: cols }, () => ' ');
    const paint = (a: number | null, b: number | null, ch: string) => {
      if (a === null) return;
      for (let c = scale(a); c <= scale(b ?? to); c += 1) cells[c] = ch;
    };
    for (const t of tries.filter((x: SimTry) => x.taskId === taskId)) {
      paint(ms(t.scheduledAt), ms(t.queuedAt) ?? ms(t.endedAt), pc.dim('·'));
      paint(ms(t.queuedAt), ms(t.startedAt) ?? ms(t.endedAt), pc.gray('░'));
      const color = t.state === 'failed' ? pc.red : t.state === 'up_for_retry' ? pc.yellow : pc.green;
      paint(ms(t.startedAt), ms(t.endedAt), color('█'));
    }
    return `${taskId.slice(0, labelWidth).padEnd(labelWidth)} │${cells.join('')}│`;
  });
  const span = formatDuration(to - from);
  return [
    pc.bold(`Gantt of ${target.dagId} ${target.runId}`) +
      pc.dim(`  (${span}; · scheduled  ░ queued  █ running)`),
    ...rows,
  ].join('\n');
}

function formatSimulation(report: SimReport, opts: { ganttRun?: string; width: number }): string {
  const t = report.totals;
  const out: string[] = [];
  out.push(
    pc.bold(`Simulated ${report.window.start} → ${report.window.end}`) +
      pc.dim(
        ` (seed ${report.seed}): ${report.runs.length} runs, ${t.tries} tries, ${t.schedulerPasses} scheduler passes`,
      ),
    '',
    runsTable(report),
    '',
    peaksTable(report),
    '',
    `queue wait (scheduled → running): mean ${formatDuration(t.queueWaitSeconds.mean * 1000)}, p95 ${formatDuration(t.queueWaitSeconds.p95 * 1000)}`,
    `tries: ${t.tasksSucceeded} succeeded, ${t.tasksFailed} failed for good`,
    report.violations.length === 0
      ? pc.green('limits: never exceeded (checked from every try’s held interval)')
      : pc.red(
          `limits exceeded ${report.violations.length} times:\n  ${report.violations.slice(0, 10).join('\n  ')}`,
        ),
  );
  const target = pickRun(report, opts.ganttRun);
  if (target) out.push('', gantt(report, target, opts.width));
  return out.join('\n');
}

export { formatSimulation };
