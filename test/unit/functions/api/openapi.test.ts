/** The OpenAPI document is generated from the request schemas, and the tests hold responses to it. */

import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '#adapters/memory/memory-store.ts';
import { DEFAULT_DAG_DEFAULTS } from '#core/dag-defaults.ts';
import { makeApiHarness } from '../../../support/api-harness.ts';
import { makeSchemaCheck } from '../../../support/api-schema-check.ts';

describe('OpenAPI document', () => {
  it('describes every route with a summary, a tag and its security, health excepted', async () => {
    const h = makeApiHarness(new MemoryStateStore());
    const res = await h.call('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.0.3');
    expect(res.body.components.securitySchemes.updraft).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, methods] of Object.entries(res.body.paths as Record<string, Record<string, never>>)) {
      for (const [method, op] of Object.entries(methods) as [string, Record<string, unknown>][]) {
        expect(op.summary, `${method} ${path}`).toEqual(expect.any(String));
        expect(op.tags, `${method} ${path}`).toHaveLength(1);
        expect(op.security, `${method} ${path}`).toEqual(
          path === '/api/v1/health' ? undefined : [{ updraft: [] }],
        );
      }
    }
  });

  it('rejects a body with strict request schemas: unknown fields are declared as refused', async () => {
    const h = makeApiHarness(new MemoryStateStore());
    const doc = (await h.call('GET', '/api/openapi.json')).body;
    for (const name of [
      'TriggerRun',
      'RunPatch',
      'DagPatch',
      'PoolCreate',
      'PoolPatch',
      'BackfillCreate',
      'ClearRequest',
    ]) {
      expect(doc.components.schemas[name]?.additionalProperties, name).toBe(false);
    }
  });

  it('catches a response that strays from its declared schema or status', () => {
    const h = makeApiHarness(new MemoryStateStore());
    const check = makeSchemaCheck(h.app);
    expect(() =>
      check('GET', '/api/v1/version', 200, {
        version: '1',
        commit: null,
        stage: 'x',
        api: 'v1',
        dagBucket: null,
        dagDefaults: DEFAULT_DAG_DEFAULTS,
      }),
    ).not.toThrow();
    expect(() => check('GET', '/api/v1/version', 200, { version: 1 })).toThrow(
      /does not match its OpenAPI schema/,
    );
    expect(() => check('GET', '/api/v1/version', 418, {})).toThrow(/do not declare/);
  });
});
