import { describe, expect, it } from 'vitest';
import {
  MemoryBundleStore,
  MemoryDispatcher,
  MemoryLogStore,
  MemoryScheduleRegistry,
  MemorySchedulerEvents,
  VirtualClock,
} from '#adapters/memory/index.ts';
import type { DispatchMessage } from '#ports';
import { T0, ti } from '../../support/factories.ts';

const message = (taskId: string): DispatchMessage => ({
  key: { dagId: 'etl', runId: 'r1', taskId, mapIndex: -1 },
  tryNumber: 1,
  dagVersion: 'v1',
  executor: 'lambda',
});

describe('MemoryDispatcher', () => {
  it('hides a received message for the visibility timeout and delivers it again if not acknowledged', async () => {
    const clock = new VirtualClock(T0);
    const queue = new MemoryDispatcher({ clock, visibilityTimeoutMs: 1000 });
    await queue.dispatch([message('a')]);
    const [first] = queue.receive();
    expect(first?.receiveCount).toBe(1);
    expect(queue.receive()).toEqual([]);
    clock.advance(1000);
    const [second] = queue.receive();
    expect(second?.receiveCount).toBe(2);
    queue.ack(first!.receiptHandle);
    expect(queue.size).toBe(1);
    queue.ack(second!.receiptHandle);
    expect(queue.size).toBe(0);
  });

  it('receives at most max messages, oldest first', async () => {
    const queue = new MemoryDispatcher({ clock: new VirtualClock(T0) });
    await queue.dispatch(['a', 'b', 'c'].map(message));
    expect(queue.receive(2).map((d) => d.message.key.taskId)).toEqual(['a', 'b']);
    expect(queue.receive(2).map((d) => d.message.key.taskId)).toEqual(['c']);
  });

  it('duplicates and drops messages when told to', async () => {
    const queue = new MemoryDispatcher({
      clock: new VirtualClock(T0),
      duplicate: (m) => m.key.taskId === 'a',
      drop: (m) => m.key.taskId === 'b',
    });
    await queue.dispatch(['a', 'b', 'c'].map(message));
    expect(queue.receive().map((d) => d.message.key.taskId)).toEqual(['a', 'a', 'c']);
  });
});

describe('MemorySchedulerEvents', () => {
  it('hands out published events once, in order, and tells the listener', async () => {
    const seen: string[] = [];
    const events = new MemorySchedulerEvents({ onPublish: (e) => seen.push(...e.map((x) => x.type)) });
    await events.publish([{ type: 'dag_registered', dagId: 'a' }]);
    await events.publish([]);
    await events.publish([{ type: 'tick' }]);
    expect(events.drain().map((e) => e.type)).toEqual(['dag_registered', 'tick']);
    expect(events.drain()).toEqual([]);
    expect(seen).toEqual(['dag_registered', 'tick']);
  });
});

describe('MemoryScheduleRegistry', () => {
  it('keeps one wake-up per DAG and fires the due ones once, earliest first', async () => {
    const registry = new MemoryScheduleRegistry();
    await registry.setNextWakeUp('b', T0 + 20);
    await registry.setNextWakeUp('a', T0 + 50);
    await registry.setNextWakeUp('a', T0 + 10);
    await registry.setNextWakeUp('c', T0 + 99);
    await registry.setNextWakeUp('c', null);
    expect(registry.nextAt()).toBe(T0 + 10);
    expect(registry.due(T0 + 20)).toEqual([
      { dagId: 'a', at: T0 + 10 },
      { dagId: 'b', at: T0 + 20 },
    ]);
    expect(registry.due(T0 + 1000)).toEqual([]);
    expect(registry.nextAt()).toBeNull();
  });
});

describe('MemoryBundleStore and MemoryLogStore', () => {
  it('stores bundles by DAG and version', async () => {
    const bundles = new MemoryBundleStore();
    await bundles.putBundle('etl', 'v1', 'code');
    expect(await bundles.getBundle('etl', 'v1')).toBe('code');
    expect(await bundles.getBundle('etl', 'v2')).toBeNull();
  });

  it('appends log lines per try and reads back a copy', async () => {
    const logs = new MemoryLogStore();
    const key = ti();
    await logs.append(key, 1, ['one']);
    await logs.append(key, 1, ['two']);
    await logs.append(key, 2, ['other try']);
    const lines = await logs.read(key, 1);
    expect(lines).toEqual(['one', 'two']);
    lines.push('mutated');
    expect(await logs.read(key, 1)).toEqual(['one', 'two']);
    expect(await logs.read(key, 3)).toEqual([]);
  });
});
