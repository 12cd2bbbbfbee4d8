import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import { compileDag } from '#core/compile.ts';
import { dag } from '#sdk/index.ts';
import { ManifestCache } from '#services/deps.ts';

describe('ManifestCache', () => {
  it('peeks only at what it has cached, and a get caches without a second read', async () => {
    // Prepare
    const store = new MemoryStateStore();
    const manifest = compileDag(dag('cached', { schedule: null }, (d) => void d.task('a', async () => null)));
    await store.registerDagVersion(manifest, { now: 0, fileloc: null, warnings: [] });
    let reads = 0;
    const read = store.getDagVersion.bind(store);
    store.getDagVersion = (dagId, version) => {
      reads += 1;
      return read(dagId, version);
    };
    const cache = new ManifestCache(store);

    // Act
    const before = cache.peek('cached', manifest.hash);
    const got = await cache.get('cached', manifest.hash);

    // Assess
    expect(before).toBeUndefined();
    expect(cache.peek('cached', manifest.hash)).toBe(got);
    expect(await cache.get('cached', manifest.hash)).toBe(got);
    expect(reads).toBe(1);
    expect(cache.peek('cached', 'another-version')).toBeUndefined();
  });
});
