/**
 * Keeps the bucket's `dags/` in step with a local folder for `updraft dev`: at start every DAG file
 * is uploaded and objects whose file is gone are removed; then each change of a file (saved,
 * created, deleted) is uploaded or removed, debounced, and only when its content changed.
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDagFile } from '#services/dag-files.ts';

interface DagSyncTarget {
  /** Object names (relative to `dags/`) present now. */
  list(): Promise<string[]>;
  upload(name: string, source: string): Promise<void>;
  remove(name: string): Promise<void>;
  onError(name: string, error: unknown): void;
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

class DagFolderSync {
  readonly #uploaded = new Map<string, string>();
  readonly #pending = new Map<string, ReturnType<typeof setTimeout>>();
  #queue: Promise<void> = Promise.resolve();
  #watcher: FSWatcher | null = null;

  constructor(
    private readonly dir: string,
    private readonly target: DagSyncTarget,
    private readonly debounceMs = 150,
  ) {}

  /** Uploads every DAG file of the folder and removes objects with no file; then watches. */
  async start(): Promise<string[]> {
    const names = await this.#files();
    for (const name of await this.target.list())
      if (!names.includes(name)) await this.#run(name, () => this.target.remove(name));
    for (const name of names) await this.#sync(name);
    this.#watcher = watch(this.dir, (_event, file) => {
      if (file && isDagFile(file)) this.#schedule(file);
    });
    this.#watcher.on('error', (error) => this.target.onError(this.dir, error));
    return names;
  }

  /** Stops watching and waits for uploads under way. */
  async stop(): Promise<void> {
    this.#watcher?.close();
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
    await this.#queue;
  }

  async #files(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && isDagFile(e.name))
      .map((e) => e.name)
      .sort();
  }

  #schedule(name: string): void {
    clearTimeout(this.#pending.get(name));
    this.#pending.set(
      name,
      setTimeout(() => {
        this.#pending.delete(name);
        this.#queue = this.#queue.then(() => this.#sync(name));
      }, this.debounceMs),
    );
  }

  async #sync(name: string): Promise<void> {
    const source = await readFile(join(this.dir, name), 'utf8').catch(() => null);
    if (source === null) {
      if (!this.#uploaded.has(name)) return;
      this.#uploaded.delete(name);
      return this.#run(name, () => this.target.remove(name));
    }
    const digest = hash(source);
    if (this.#uploaded.get(name) === digest) return;
    this.#uploaded.set(name, digest);
    return this.#run(name, () => this.target.upload(name, source));
  }

  async #run(name: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.target.onError(name, error);
    }
  }
}

export { DagFolderSync, type DagSyncTarget };
