/** Task logs in memory, one list of lines per try; reads return copies. */
import { type TiKey, tiKeyString } from '#core/model.ts';
import type { LogStore } from '#ports';

class MemoryLogStore implements LogStore {
  readonly #logs = new Map<string, string[]>();

  async append(key: TiKey, tryNumber: number, lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const id = `${tiKeyString(key)}#${tryNumber}`;
    const log = this.#logs.get(id) ?? [];
    log.push(...lines);
    this.#logs.set(id, log);
  }

  async read(key: TiKey, tryNumber: number): Promise<string[]> {
    return [...(this.#logs.get(`${tiKeyString(key)}#${tryNumber}`) ?? [])];
  }
}

export { MemoryLogStore };
