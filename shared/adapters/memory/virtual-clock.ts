/** A clock that moves only when told to: virtual time for the simulator and for tests. */
import type { Clock } from '#ports';

class VirtualClock implements Clock {
  #now: number;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): number {
    if (ms < 0) throw new Error('a virtual clock does not go backwards');
    this.#now += ms;
    return this.#now;
  }

  set(at: number): number {
    if (at < this.#now) throw new Error('a virtual clock does not go backwards');
    this.#now = at;
    return this.#now;
  }
}

export { VirtualClock };
