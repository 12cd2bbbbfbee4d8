/**
 * S3 event notifications for the local bucket's `dags/`: the emulator sends none, so this lists the
 * prefix every `everyMs` and hands the dag-processor an ObjectCreated or ObjectRemoved event for each
 * object that appeared, changed (its ETag) or went away — what S3 does in AWS when `updraft dags
 * deploy` (or anything else) uploads a DAG file. Writes the stack makes itself (`putDagFile`, which
 * invokes the dag-processor directly) are noted, so they are not processed twice.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { listDagObjects } from '#adapters/s3/dag-objects.ts';

export type BucketChange = 'created' | 'removed';

export interface DagBucketEventsOptions {
  s3: S3Client;
  bucket: string;
  prefix: string;
  everyMs: number;
  notify(key: string, change: BucketChange): Promise<unknown>;
  onError(error: unknown): void;
}

class DagBucketEvents {
  readonly #options: DagBucketEventsOptions;
  /** ETag of every object under the prefix, as last seen or written by the stack. */
  readonly #seen = new Map<string, string>();
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;

  constructor(options: DagBucketEventsOptions) {
    this.#options = options;
  }

  /** Records what is there now (no events for it: those objects were processed when written), then polls. */
  async start(): Promise<void> {
    for (const [key, etag] of await this.#list()) this.#seen.set(key, etag);
    this.#timer = setInterval(() => {
      this.#polling ??= this.poll()
        .catch((error: unknown) => this.#options.onError(error))
        .finally(() => {
          this.#polling = null;
        });
    }, this.#options.everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#polling;
  }

  /** A write the stack made and processed itself (null: it deleted the object). */
  note(key: string, etag: string | null): void {
    if (etag === null) this.#seen.delete(key);
    else this.#seen.set(key, etag);
  }

  /** One look: an event per object created, changed or removed since the last. */
  async poll(): Promise<void> {
    const now = await this.#list();
    for (const [key, etag] of now) {
      if (this.#seen.get(key) === etag) continue;
      this.#seen.set(key, etag);
      await this.#options.notify(key, 'created');
    }
    for (const key of [...this.#seen.keys()]) {
      if (now.has(key)) continue;
      this.#seen.delete(key);
      await this.#options.notify(key, 'removed');
    }
  }

  async #list(): Promise<Map<string, string>> {
    const objects = await listDagObjects(this.#options.s3, this.#options.bucket, this.#options.prefix);
    return new Map(objects.map((o) => [o.key, o.etag]));
  }
}

export { DagBucketEvents };
