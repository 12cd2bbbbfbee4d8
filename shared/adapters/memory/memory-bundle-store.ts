/** DAG bundles (code) in memory, by DAG and version. Versions are content hashes: a put is idempotent. */
import type { BundleStore } from '#ports';

class MemoryBundleStore implements BundleStore {
  readonly #bundles = new Map<string, string>();

  async putBundle(dagId: string, version: string, code: string): Promise<void> {
    this.#bundles.set(`${dagId}@${version}`, code);
  }

  async getBundle(dagId: string, version: string): Promise<string | null> {
    return this.#bundles.get(`${dagId}@${version}`) ?? null;
  }
}

export { MemoryBundleStore };
