/**
 * Synthesizes an app holding the `Updraft` construct, offline (fixed account and region, no
 * credentials, no lookups), with cdk.json's context (its feature flags) and cdk-nag's AwsSolutions checks. Bundling the functions is the slow
 * part: CDK caches a bundle per process and output directory, so every app of a test file shares
 * one directory and the apps after the first reuse the bundles.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Updraft } from '../../infra/index.ts';
import type { UpdraftProps } from '../../infra/props.ts';

export interface Synthesized {
  app: App;
  stack: Stack;
  updraft: Updraft;
  template: Template;
  assembly: CloudAssembly;
  /** cdk-nag's findings left unacknowledged, as `<rule> at <construct path>`. */
  findings: string[];
  /** The directory holding an asset staged for the template (a function's bundle). */
  assetDir(hash: string): string;
}

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

// The dag-processor's esbuild-wasm is installed by `npm ci` beside its bundle: from npm's cache,
// which the project's own install filled, rather than the registry.
process.env.npm_config_prefer_offline = 'true';

/** The context `npx cdk synth` runs with: cdk.json's feature flags, so the tests see what deploys. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(path.join(import.meta.dirname, '../../cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

let outdir: string | undefined;
let apps = 0;

/** Synthesizes; a validation failure is returned as findings rather than thrown. */
function synth(props: UpdraftProps = {}, customize?: (stack: Stack) => UpdraftProps): Synthesized {
  outdir ??= mkdtempSync(path.join(tmpdir(), 'updraft-infra-'));
  const app = new App({ outdir, context: CDK_JSON_CONTEXT });
  apps += 1;
  const stack = new Stack(app, `Test${apps}`, { env: { account: '123456789012', region: 'eu-west-1' } });
  const updraft = new Updraft(stack, 'Updraft', { ...props, ...customize?.(stack) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let assembly: CloudAssembly;
  let failure: unknown = null;
  try {
    assembly = app.synth();
  } catch (error) {
    // A validation failure throws after the assembly and the report are written: read them back.
    failure = error;
    assembly = new CloudAssembly(outdir);
  }
  const report = JSON.parse(
    readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
  const findings = report.pluginReports.flatMap((p) =>
    p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)),
  );
  if (failure && findings.length === 0) throw failure;
  const template = Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template);
  return {
    app,
    stack,
    updraft,
    template,
    assembly,
    findings,
    assetDir: (hash) => path.join(assembly.directory, `asset.${hash}`),
  };
}

export { synth };
