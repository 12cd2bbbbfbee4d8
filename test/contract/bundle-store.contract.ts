/**
 * The bundle-store contract: a DAG's code by (dagId, version), exactly as put, null when absent.
 * Versions are content hashes, so putting a version again puts the same code.
 */
import { describe, expect, type TestAPI } from 'vitest';
import type { BundleStore } from '#ports';

function describeBundleStore<C extends { store: BundleStore }>(name: string, it: TestAPI<C>): void {
  describe(`BundleStore contract: ${name}`, () => {
    it('returns the code of a bundle exactly as it was put', async ({ store }) => {
      const code = 'export default dag("etl", { tasks: ["é", "日本", "🚀"] });\r\n\ttrailing   \n';
      await store.putBundle('etl', 'abc123', code);
      expect(await store.getBundle('etl', 'abc123')).toBe(code);
    });

    it('returns null for an unknown DAG or an unknown version', async ({ store }) => {
      await store.putBundle('etl', 'v1', 'code');
      expect(await store.getBundle('etl', 'v2')).toBeNull();
      expect(await store.getBundle('other', 'v1')).toBeNull();
      expect(await store.getBundle('et', 'v1')).toBeNull();
    });

    it('keeps the versions of a DAG and DAGs with similar ids apart', async ({ store }) => {
      const bundles = [
        ['etl', 'v1'],
        ['etl', 'v2'],
        ['etl2', 'v1'],
        ['etl.x', 'v1'],
        ['etl', 'v1.mjs'],
      ] as const;
      for (const [dagId, version] of bundles) await store.putBundle(dagId, version, `${dagId}@${version}`);
      for (const [dagId, version] of bundles)
        expect(await store.getBundle(dagId, version)).toBe(`${dagId}@${version}`);
    });

    it('puts the same version again without harm', async ({ store }) => {
      await store.putBundle('etl', 'v1', 'same');
      await store.putBundle('etl', 'v1', 'same');
      expect(await store.getBundle('etl', 'v1')).toBe('same');
    });

    it('stores a bundle of several megabytes', async ({ store }) => {
      const code = `// ${'x'.repeat(3 * 1024 * 1024)}\nexport {};\n`;
      await store.putBundle('big', 'v1', code);
      expect((await store.getBundle('big', 'v1'))?.length).toBe(code.length);
    });
  });
}

export { describeBundleStore };
