/**
 * Holds the API to its OpenAPI document: every response a test receives must have a status the
 * route declares, and a JSON body its declared zod schema accepts. Run on every call the API
 * harness makes, so the document cannot drift from what the API sends.
 */
import type { OpenAPIHono, z } from '@hono/zod-openapi';

interface DeclaredRoute {
  method: string;
  pattern: RegExp;
  path: string;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

function routesOf(app: OpenAPIHono<never> | OpenAPIHono): DeclaredRoute[] {
  const out: DeclaredRoute[] = [];
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route') continue;
    const { method, path, responses } = def.route;
    const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    out.push({
      method: method.toUpperCase(),
      pattern,
      path,
      responses: responses as DeclaredRoute['responses'],
    });
  }
  return out;
}

function makeSchemaCheck(app: { openAPIRegistry: OpenAPIHono['openAPIRegistry'] }) {
  const routes = routesOf(app as OpenAPIHono);
  return function check(method: string, url: string, status: number, body: unknown): void {
    const path = url.split('?')[0]!;
    const route = routes.find((r) => r.method === method && r.pattern.test(path));
    if (!route) return; // an unknown route: the app's 404, covered by its own test
    const declared = route.responses[String(status)];
    if (!declared) {
      throw new Error(
        `${method} ${route.path} answered ${status}, which its OpenAPI responses do not declare`,
      );
    }
    const schema = declared.content?.['application/json']?.schema as z.ZodType | undefined;
    if (!schema) return;
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(
        `${method} ${route.path} ${status}: the body does not match its OpenAPI schema at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      );
    }
  };
}

export { makeSchemaCheck };
