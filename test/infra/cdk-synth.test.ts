/**
 * `npx cdk synth` as a user runs it (cdk.json's app and context), with no credentials and no
 * network: a fresh HOME (no ~/.aws), no AWS variables, the instance metadata service off, npm
 * offline (the dag-processor's esbuild-wasm comes from npm's cache) and every proxy variable
 * pointing at a closed port, so anything that tried to go out would fail the synth.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '../..');
const NOWHERE = 'http://127.0.0.1:9';

function cdkSynth(outdir: string): Promise<{ code: number | null; output: string }> {
  const npmCache = path.join(process.env.HOME ?? '/root', '.npm');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: mkdtempSync(path.join(tmpdir(), 'updraft-home-')),
    npm_config_cache: process.env.npm_config_cache ?? npmCache,
    npm_config_offline: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    HTTP_PROXY: NOWHERE,
    HTTPS_PROXY: NOWHERE,
    http_proxy: NOWHERE,
    https_proxy: NOWHERE,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--quiet', '-o', outdir],
      { cwd: ROOT, env },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('npx cdk synth', () => {
  it('synthesizes the app of cdk.json with no credentials and no network, every feature flag configured', async () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'updraft-cdk-out-'));
    const { code, output } = await cdkSynth(outdir);
    expect(output).not.toMatch(/ERROR|feature flags are not configured/);
    expect(code).toBe(0);
    const file = path.join(outdir, 'Updraft.template.json');
    expect(existsSync(file)).toBe(true);
    const template = JSON.parse(readFileSync(file, 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toContain('AWS::DynamoDB::Table');
    expect(types.filter((t) => t === 'AWS::Lambda::Function').length).toBeGreaterThanOrEqual(5);
  }, 420_000);
});
