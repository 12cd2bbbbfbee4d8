import { describe, expect, it } from 'vitest';
import type { SchedulerEvent } from '#ports';
import { GroupedEvents } from '#services/grouped-events.ts';

const finished = (taskId: string): SchedulerEvent => ({
  type: 'task_finished',
  dagId: 'd',
  runId: 'r',
  taskId,
  tryNumber: 1,
  dagVersion: 'v',
});

function recording(fail = false) {
  const sends: SchedulerEvent[][] = [];
  return {
    sends,
    inner: {
      publish: async (events: SchedulerEvent[]) => {
        sends.push(events);
        if (fail) throw new Error('SQS down');
      },
    },
  };
}

describe('GroupedEvents', () => {
  it('sends the events published in one tick together', async () => {
    // Prepare
    const { sends, inner } = recording();
    const grouped = new GroupedEvents(inner);
    // Act
    await Promise.all(['a', 'b', 'c'].map((id) => grouped.publish([finished(id)])));
    // Assess
    expect(sends.map((s) => s.map((e) => e.type === 'task_finished' && e.taskId))).toEqual([['a', 'b', 'c']]);
    expect(grouped.stats).toEqual({ sends: 1, publishes: 3 });
  });

  it('sends what arrives during a send in the next one', async () => {
    const { sends, inner } = recording();
    const grouped = new GroupedEvents(inner);
    const first = grouped.publish([finished('a')]);
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([first, grouped.publish([finished('b')]), grouped.publish([finished('c')])]);
    expect(sends.map((s) => s.length)).toEqual([1, 2]);
  });

  it('gives every caller of a failed send its error', async () => {
    const { inner } = recording(true);
    const grouped = new GroupedEvents(inner);
    const results = await Promise.allSettled(['a', 'b'].map((id) => grouped.publish([finished(id)])));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // A later publish is sent again, on its own.
    await expect(grouped.publish([finished('c')])).rejects.toThrow('SQS down');
  });
});
