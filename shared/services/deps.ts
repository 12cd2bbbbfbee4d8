/** What every service needs, injected by handlers, the CLI and the simulator. */
import type { DagManifest } from '#core/manifest.ts';
import type { SchedulerSettings } from '#core/model.ts';
import type {
  CallbackRunner,
  ContainerLauncher,
  Dispatcher,
  Logger,
  Notifier,
  RuntimeSource,
  ScheduleRegistry,
  SchedulerEvents,
  StateStore,
} from '#ports';

export interface ServiceDeps {
  store: StateStore;
  dispatcher: Dispatcher;
  events: SchedulerEvents;
  schedules: ScheduleRegistry;
  settings: SchedulerSettings;
  logger: Logger;
  manifests: ManifestCache;
  /** Where task and run failures are published; nothing is published without one. */
  notifier?: Notifier;
  /** DAG code by version, for DAG callbacks run by the scheduler; none are run without one. */
  runtimes?: RuntimeSource;
  /** Stops containers of Fargate tries that outlive their executionTimeout (the sweep). */
  containers?: ContainerLauncher;
  /** Task callbacks of tries that end outside the worker's executor; none are run without one. */
  callbacks?: CallbackRunner;
}

/** Manifests are immutable per version (content hash), so they are cached for the life of a container. */
class ManifestCache {
  readonly #store: StateStore;
  /** By DAG id, then version: no key is built per lookup (this is on every hot path). */
  readonly #cache = new Map<string, Map<string, DagManifest>>();

  constructor(store: StateStore) {
    this.#store = store;
  }

  /** Reads in flight, by `dagId#version`: callers that miss at once share one read. */
  readonly #reading = new Map<string, Promise<DagManifest>>();

  async get(dagId: string, version: string): Promise<DagManifest> {
    const hit = this.peek(dagId, version);
    if (hit) return hit;
    const id = `${dagId}#${version}`;
    const pending = this.#reading.get(id);
    if (pending) return pending;
    const reading = this.#read(dagId, version).finally(() => this.#reading.delete(id));
    this.#reading.set(id, reading);
    return reading;
  }

  async #read(dagId: string, version: string): Promise<DagManifest> {
    const manifest = await this.#store.getDagVersion(dagId, version);
    if (!manifest) throw new Error(`DAG ${dagId} version ${version} is not registered`);
    this.#put(dagId, version, manifest);
    return manifest;
  }

  /**
   * The manifest if it is cached, without a read: hot paths take it without an `await` (each one a
   * turn of the microtask queue and a promise) and call `get` only on a miss.
   */
  peek(dagId: string, version: string): DagManifest | undefined {
    return this.#cache.get(dagId)?.get(version);
  }

  remember(manifest: DagManifest): void {
    this.#put(manifest.dagId, manifest.hash, manifest);
  }

  #put(dagId: string, version: string, manifest: DagManifest): void {
    const versions = this.#cache.get(dagId) ?? new Map<string, DagManifest>();
    versions.set(version, manifest);
    this.#cache.set(dagId, versions);
  }
}

const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Reads every page of a paged store call. */
async function allPages<T>(
  read: (cursor: string | null) => Promise<{ items: T[]; next: string | null }>,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const page = await read(cursor);
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}

export { allPages, ManifestCache, silentLogger };
