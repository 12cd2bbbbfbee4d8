import { describe, expect, it } from 'vitest';
import { bundleKey, logChunkKey, logPrefix } from '#adapters/s3/keys.ts';

const KEY = { dagId: 'etl', runId: 'scheduled__2024-01-01T00:00:00+00:00', taskId: 'load', mapIndex: -1 };

describe('S3 object keys', () => {
  it('lays out bundles and logs as documented', () => {
    expect(bundleKey('etl', 'abc123')).toBe('bundles/etl/abc123.mjs');
    expect(logPrefix(KEY, 2)).toBe('logs/etl/scheduled__2024-01-01T00:00:00+00:00/load/-1/2/');
  });

  it('escapes slashes and percent signs so that a name stays one segment', () => {
    expect(logPrefix({ ...KEY, runId: 'manual__a/b%2Fc' }, 1)).toBe(
      'logs/etl/manual__a%2Fb%252Fc/load/-1/1/',
    );
    expect(bundleKey('a/b', 'v')).not.toBe(bundleKey('a', 'b/v'));
  });

  it('names chunks so that key order is append order', () => {
    const keys = [
      logChunkKey('p/', 999, 5, 'ffff'),
      logChunkKey('p/', 1_000, 2, '0000'),
      logChunkKey('p/', 1_000, 10, '0000'),
      logChunkKey('p/', 1_700_000_000_000, 1, 'aaaa'),
    ];
    expect([...keys].sort()).toEqual(keys);
  });
});
