/** Pools in memory: `default_pool` (128 slots) exists from the start and cannot be deleted. */
import { ConflictError } from '#core/errors.ts';
import { DEFAULT_POOL, DEFAULT_POOL_SLOTS, type Pool } from '#core/model.ts';

class MemoryPools {
  readonly #pools = new Map<string, Pool>([
    [
      DEFAULT_POOL,
      { name: DEFAULT_POOL, slots: DEFAULT_POOL_SLOTS, description: 'Default pool', includeDeferred: false },
    ],
  ]);

  get(name: string): Pool | null {
    const pool = this.#pools.get(name);
    return pool ? { ...pool } : null;
  }

  list(): Pool[] {
    return [...this.#pools.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((p) => ({ ...p }));
  }

  /** Creates or resizes; a size below what is in use is allowed (claims wait until usage falls). */
  put(pool: Pool): void {
    this.#pools.set(pool.name, { ...pool });
  }

  /** Creates only if absent; false if a pool of that name exists. */
  create(pool: Pool): boolean {
    if (this.#pools.has(pool.name)) return false;
    this.#pools.set(pool.name, { ...pool });
    return true;
  }

  delete(name: string): boolean {
    if (name === DEFAULT_POOL) {
      throw new ConflictError(`${DEFAULT_POOL} cannot be deleted (resize it instead)`);
    }
    return this.#pools.delete(name);
  }
}

export { MemoryPools };
