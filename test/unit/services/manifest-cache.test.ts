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

  it('shares one read between gets that miss at once, and reads again after a failed read', async () => {
    // Prepare
    const store = new MemoryStateStore();
    const manifest = compileDag(dag('shared', { schedule: null }, (d) => void d.task('a', async () => null)));
    let reads = 0;
    const read = store.getDagVersion.bind(store);
    store.getDagVersion = (dagId, version) => {
      reads += 1;
      return read(dagId, version);
    };
    const cache = new ManifestCache(store);

    // Act
    const missing = await Promise.allSettled([
      cache.get('shared', manifest.hash),
      cache.get('shared', manifest.hash),
    ]);
    const readsWhileMissing = reads;
    await store.registerDagVersion(manifest, { now: 0, fileloc: null, warnings: [] });
    const [a, b] = await Promise.all([
      cache.get('shared', manifest.hash),
      cache.get('shared', manifest.hash),
    ]);

    // Assess
    expect(missing.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(readsWhileMissing).toBe(1);
    expect(a).toBe(b);
    expect(reads).toBe(2);
  });
});
