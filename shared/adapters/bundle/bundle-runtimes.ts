/**
 * The code of each DAG version for the processes that run it (worker, scheduler callbacks): the
 * bundle is read from the bundle store and loaded once per version and warm container; a version
 * whose bundle is missing or broken reads as undefined (its tries fail and say so).
 */
import type { DagRuntime } from '#core/definition.ts';
import type { BundleStore, DagBundler, Logger, RuntimeSource } from '#ports';
import { loadBundle } from './bundle-loader.ts';
import { buildDagBundle, type Esbuild } from './esbuild-bundler.ts';

class BundleRuntimes implements RuntimeSource {
  readonly #loaded = new Map<string, Promise<DagRuntime | undefined>>();

  constructor(
    private readonly bundles: BundleStore,
    private readonly options: { dir?: string; logger?: Pick<Logger, 'warn'> } = {},
  ) {}

  runtime(dagId: string, version: string): Promise<DagRuntime | undefined> {
    const key = `${dagId}@${version}`;
    let loading = this.#loaded.get(key);
    if (!loading) {
      loading = this.#load(dagId, version);
      this.#loaded.set(key, loading);
      // A failed load (store unreachable) is tried again next time.
      void loading.then((r) => r ?? this.#loaded.delete(key));
    }
    return loading;
  }

  async #load(dagId: string, version: string): Promise<DagRuntime | undefined> {
    const code = await this.bundles.getBundle(dagId, version);
    if (code === null) {
      this.options.logger?.warn('no bundle for DAG version', { dagId, version });
      return undefined;
    }
    const loaded = await loadBundle(code, { dir: this.options.dir });
    if (!loaded.ok) {
      this.options.logger?.warn('DAG bundle does not load', { dagId, version, error: loaded.message });
      return undefined;
    }
    return loaded.dags.find((d) => d.dagId === dagId)?.runtime;
  }
}

/** The dag-processor's bundler: esbuild (native or wasm) to build, the bundle loader to load. */
class EsbuildDagBundler implements DagBundler {
  constructor(private readonly options: { esbuild?: Esbuild; dir?: string } = {}) {}

  build(source: string, filename: string) {
    return buildDagBundle(source, filename, this.options.esbuild);
  }

  load(code: string) {
    return loadBundle(code, { dir: this.options.dir });
  }
}

export { BundleRuntimes, EsbuildDagBundler };
