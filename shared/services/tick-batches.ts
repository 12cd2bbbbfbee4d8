/**
 * Requests made in the same tick, or while the group before them is being handled, handled as one
 * group: the tries of a worker's batch end at nearly the same moment, so their events go out in one
 * send (grouped-events.ts) and their downstream work is looked at in one pass (downstream-pass.ts).
 * Every request of a group gets the group's result, or its error. An observer of shared work sees
 * each group's handling as done for every request in it.
 */
import type { SharedWorkObserver } from '#core/shared-work.ts';

interface Waiting<T, R> {
  request: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
  caller: unknown;
}

class TickBatches<T, R> {
  readonly #queue: Waiting<T, R>[] = [];
  #draining = false;

  constructor(
    private readonly handle: (requests: T[]) => Promise<R>,
    private readonly shared?: SharedWorkObserver,
  ) {}

  add(request: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject, caller: this.shared?.join() });
      if (this.#draining) return;
      this.#draining = true;
      // The requests of this tick share the first group; later ones, the next group after it.
      setImmediate(() => void this.#drain());
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0);
        try {
          const requests = group.map((w) => w.request);
          const result = await (this.shared
            ? this.shared.run(
                group.map((w) => w.caller),
                () => this.handle(requests),
              )
            : this.handle(requests));
          for (const w of group) w.resolve(result);
        } catch (error) {
          for (const w of group) w.reject(error);
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}

export { TickBatches };
