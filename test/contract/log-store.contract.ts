/**
 * The log-store contract: the lines of one try, in append order, separate from every other try.
 * A line holding a newline may read back as several lines; the text is the same.
 */
import { describe, expect, type TestAPI } from 'vitest';
import type { TiKey } from '#core/model.ts';
import type { LogStore } from '#ports';

const KEY: TiKey = {
  dagId: 'etl',
  runId: 'scheduled__2024-01-01T00:00:00+00:00',
  taskId: 'load',
  mapIndex: -1,
};

function describeLogStore<C extends { logs: LogStore }>(name: string, it: TestAPI<C>): void {
  describe(`LogStore contract: ${name}`, () => {
    it('reads nothing for a try that never logged', async ({ logs }) => {
      expect(await logs.read(KEY, 1)).toEqual([]);
    });

    it('reads the lines of every append back in append order', async ({ logs }) => {
      await logs.append(KEY, 1, ['starting', '']);
      await logs.append(KEY, 1, []);
      for (let i = 0; i < 25; i += 1) await logs.append(KEY, 1, [`line ${i}`]);
      await logs.append(KEY, 1, ['  indented', 'ünïcødé 🚀', 'done']);
      expect(await logs.read(KEY, 1)).toEqual([
        'starting',
        '',
        ...Array.from({ length: 25 }, (_, i) => `line ${i}`),
        '  indented',
        'ünïcødé 🚀',
        'done',
      ]);
    });

    it('keeps the text of a line that holds newlines', async ({ logs }) => {
      await logs.append(KEY, 1, ['Error: boom\n    at run (task.ts:3:9)', 'after']);
      expect((await logs.read(KEY, 1)).join('\n')).toBe('Error: boom\n    at run (task.ts:3:9)\nafter');
    });

    it('keeps tries, map indexes, tasks and runs apart', async ({ logs }) => {
      const keys: [TiKey, number][] = [
        [KEY, 1],
        [KEY, 11],
        [{ ...KEY, mapIndex: 1 }, 1],
        [{ ...KEY, mapIndex: 0 }, 1],
        [{ ...KEY, taskId: 'load2' }, 1],
        [{ ...KEY, runId: 'manual__a/b' }, 1],
        [{ ...KEY, runId: 'manual__a' }, 1],
        [{ ...KEY, dagId: 'etl.x' }, 1],
      ];
      for (const [key, tryNumber] of keys)
        await logs.append(key, tryNumber, [JSON.stringify([key, tryNumber])]);
      for (const [key, tryNumber] of keys) {
        expect(await logs.read(key, tryNumber)).toEqual([JSON.stringify([key, tryNumber])]);
      }
      expect(await logs.read(KEY, 2)).toEqual([]);
    });

    it('keeps every line when two writers append to one try at once', async ({ logs }) => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => logs.append(KEY, 1, [`writer ${i}`])));
      expect((await logs.read(KEY, 1)).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `writer ${i}`).sort(),
      );
    });
  });
}

export { describeLogStore };
