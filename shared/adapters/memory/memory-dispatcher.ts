/**
 * An in-process dispatch queue that behaves like SQS for the things that matter to correctness:
 * at-least-once delivery, a visibility timeout after which an unacknowledged message comes back,
 * and — for tests — injected duplicates and losses.
 */
import type { Clock, Dispatcher, DispatchMessage } from '#ports';

export interface Delivery {
  message: DispatchMessage;
  receiptHandle: string;
  /** 1 on the first delivery, like SQS's ApproximateReceiveCount. */
  receiveCount: number;
}

export interface MemoryDispatcherOptions {
  clock: Clock;
  /** How long a received message stays invisible before it is delivered again. @default 30 s */
  visibilityTimeoutMs?: number;
  /** Tests: return true to send a message twice (a duplicate delivery). */
  duplicate?: (message: DispatchMessage) => boolean;
  /** Tests: return true to lose a message on send. */
  drop?: (message: DispatchMessage) => boolean;
}

interface Entry {
  id: number;
  message: DispatchMessage;
  visibleAt: number;
  receiveCount: number;
}

class MemoryDispatcher implements Dispatcher {
  readonly #options: MemoryDispatcherOptions;
  readonly #entries = new Map<number, Entry>();
  #nextId = 1;

  constructor(options: MemoryDispatcherOptions) {
    this.#options = options;
  }

  async dispatch(messages: DispatchMessage[]): Promise<void> {
    const now = this.#options.clock.now();
    for (const message of messages) {
      if (this.#options.drop?.(message)) continue;
      const copies = this.#options.duplicate?.(message) ? 2 : 1;
      for (let i = 0; i < copies; i += 1) {
        const id = this.#nextId++;
        this.#entries.set(id, { id, message: structuredClone(message), visibleAt: now, receiveCount: 0 });
      }
    }
  }

  /** Up to `max` visible messages, oldest first; each stays invisible for the visibility timeout. */
  receive(max = 10): Delivery[] {
    const now = this.#options.clock.now();
    const out: Delivery[] = [];
    for (const entry of this.#entries.values()) {
      if (out.length >= max) break;
      if (entry.visibleAt > now) continue;
      entry.receiveCount += 1;
      entry.visibleAt = now + (this.#options.visibilityTimeoutMs ?? 30_000);
      out.push({
        message: structuredClone(entry.message),
        receiptHandle: `${entry.id}:${entry.receiveCount}`,
        receiveCount: entry.receiveCount,
      });
    }
    return out;
  }

  /** Deletes a received message; a stale receipt (the message was received again since) is ignored. */
  ack(receiptHandle: string): void {
    const [id, count] = receiptHandle.split(':').map(Number);
    const entry = this.#entries.get(id!);
    if (entry && entry.receiveCount === count) this.#entries.delete(id!);
  }

  /** Messages not yet deleted, visible or not. */
  get size(): number {
    return this.#entries.size;
  }
}

export { MemoryDispatcher };
