/**
 * Builds a raw DAG file (one `.ts`/`.js` source uploaded under `dags/`) into a self-contained ES
 * module with esbuild. A raw file may import only the SDK (`updraft/sdk`), Node's built-ins and the
 * AWS SDK; anything else needs `updraft dags deploy`, which bundles on the author's machine.
 *
 * - `updraft/sdk` becomes a module reading the SDK of the process that loads the bundle
 *   (`globalThis[Symbol.for('updraft.sdk')]`, set by bundle-loader.ts): a bundle never carries its
 *   own copy, so DAG objects and error classes are the runtime's.
 * - `@aws-sdk/*` are required at load time through `globalThis[Symbol.for('updraft.require')]`
 *   (the AWS SDK of the Lambda runtime, or of this project locally).
 * - Node built-ins stay imports.
 *
 * esbuild is native where it is installed (locally) and `esbuild-wasm` in Lambda, where shipping a
 * platform binary is not wanted; both have the same `build` API.
 */
import { builtinModules } from 'node:module';
import type { BuildFailure, Plugin } from 'esbuild';
import * as sdk from '#sdk/index.ts';

interface Esbuild {
  build: typeof import('esbuild').build;
}

type BuildResult = { ok: true; code: string } | { ok: false; message: string };

const SDK_SPECIFIER = 'updraft/sdk';
const SDK_GLOBAL = 'updraft.sdk';
const REQUIRE_GLOBAL = 'updraft.require';
const BUILTINS = new Set(builtinModules);

/** The module that stands for `updraft/sdk` inside a bundle. */
function sdkShim(): string {
  const names = Object.keys(sdk).sort();
  return [
    `const sdk = globalThis[Symbol.for(${JSON.stringify(SDK_GLOBAL)})];`,
    `if (!sdk) throw new Error('this DAG bundle must be loaded by Updraft (updraft/sdk is not set)');`,
    ...names.map((n) => `export const ${n} = sdk.${n};`),
  ].join('\n');
}

function awsShim(path: string): string {
  return `module.exports = globalThis[Symbol.for(${JSON.stringify(REQUIRE_GLOBAL)})](${JSON.stringify(path)});`;
}

/**
 * Resolves `updraft/sdk`, built-ins and the AWS SDK as the runtime provides them. Anything else is
 * refused for a raw file (`bundleDependencies: false`), or left to esbuild to bundle in (`updraft
 * dags deploy`, which builds on the author's machine with the file's folder to resolve from).
 */
const dagImports = (bundleDependencies: boolean): Plugin => ({
  name: 'updraft-dag-imports',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const path = args.path;
      if (path === SDK_SPECIFIER) return { path, namespace: 'updraft-sdk' };
      if (path.startsWith('node:') || BUILTINS.has(path)) return { path, external: true };
      if (path.startsWith('@aws-sdk/')) return { path, namespace: 'aws-sdk' };
      if (bundleDependencies) return undefined;
      return {
        errors: [
          {
            text: `cannot import "${path}": a DAG file may import only updraft/sdk, Node's built-ins and the AWS SDK (bundle other dependencies with updraft dags deploy)`,
          },
        ],
      };
    });
    build.onLoad({ filter: /.*/, namespace: 'updraft-sdk' }, () => ({ contents: sdkShim(), loader: 'js' }));
    build.onLoad({ filter: /.*/, namespace: 'aws-sdk' }, (args) => ({
      contents: awsShim(args.path),
      loader: 'js',
    }));
  },
});

function isBuildFailure(error: unknown): error is BuildFailure {
  return error instanceof Error && Array.isArray((error as Partial<BuildFailure>).errors);
}

/** The first problem esbuild reports, as one line with its position. */
function describeFailure(error: unknown): string {
  if (!isBuildFailure(error) || error.errors.length === 0)
    return error instanceof Error ? error.message.split('\n')[0]! : String(error);
  const first = error.errors[0]!;
  const where = first.location ? `line ${first.location.line}:${first.location.column + 1}: ` : '';
  const more = error.errors.length > 1 ? ` (and ${error.errors.length - 1} more)` : '';
  const kind = /cannot import/.test(first.text) ? '' : 'syntax error at ';
  return `${where ? `${kind}${where}` : ''}${first.text}${more}`;
}

/** Picks the native esbuild when it is installed, else esbuild-wasm. */
async function loadEsbuild(): Promise<Esbuild> {
  try {
    return (await import('esbuild')) as Esbuild;
  } catch {
    return (await import('esbuild-wasm')) as unknown as Esbuild;
  }
}

/**
 * Builds one DAG source file; `filename` picks the loader (`.ts` → TypeScript) and names errors.
 * With `resolveDir` (the file's folder), its relative imports and npm dependencies are bundled in.
 */
async function buildDagBundle(
  source: string,
  filename: string,
  esbuild?: Esbuild,
  options: { resolveDir?: string } = {},
): Promise<BuildResult> {
  const engine = esbuild ?? (await loadEsbuild());
  try {
    const result = await engine.build({
      stdin: {
        contents: source,
        loader: /\.(c|m)?ts$/.test(filename) ? 'ts' : 'js',
        sourcefile: filename,
        ...(options.resolveDir && { resolveDir: options.resolveDir }),
      },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      plugins: [dagImports(options.resolveDir !== undefined)],
    });
    return { ok: true, code: result.outputFiles[0]?.text ?? '' };
  } catch (error) {
    return { ok: false, message: describeFailure(error) };
  }
}

export { type BuildResult, buildDagBundle, type Esbuild, loadEsbuild, REQUIRE_GLOBAL, SDK_GLOBAL };
