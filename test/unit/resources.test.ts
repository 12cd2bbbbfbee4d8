import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { messageCatalog } from '../../shared/messages.ts';
import { BUCKET, FUNCTION_NAMES, FUNCTIONS, QUEUES, RESOURCES } from '../../shared/resources.ts';

describe('resources', () => {
  it.each(Object.entries(QUEUES))(
    'queue %s has a DLQ and hides a message for 6 × its consumer timeout',
    (_, q) => {
      expect(q.dlq.name).toBe(`${q.name}-dlq`);
      expect(q.visibilityTimeoutSeconds).toBe(6 * FUNCTIONS[q.consumer].timeoutSeconds);
      expect(q.maxReceiveCount).toBe(messageCatalog[q.carries[0]!].retry.maxReceiveCount);
      expect(q.batchSize).toBeGreaterThanOrEqual(1);
      expect(q.batchSize).toBeLessThanOrEqual(10);
    },
  );

  it.each(FUNCTION_NAMES)('function %s has its entry at functions/<name>/handler.ts', async (name) => {
    const entry = FUNCTIONS[name].entry;
    expect(entry).toBe(`functions/${name}/handler.ts`);
    expect(existsSync(entry)).toBe(true);
    const module = (await import(`../../${entry}`)) as Record<string, unknown>;
    expect(typeof module.handler).toBe('function');
    expect(typeof module.createHandler).toBe('function');
  });

  it('keeps the worker within Lambda’s 15 minutes and every prefix ending in a slash', () => {
    expect(FUNCTIONS.worker.timeoutSeconds).toBeLessThanOrEqual(900);
    for (const prefix of Object.values(BUCKET.prefixes)) expect(prefix).toMatch(/^[a-z]+\/$/);
    expect(RESOURCES.table.globalSecondaryIndexes.length).toBeGreaterThan(0);
  });
});
