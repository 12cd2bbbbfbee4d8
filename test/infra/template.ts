/** Reading a synthesized template: resources by type, a function's role policies, tokens as text. */
import type { Template } from 'aws-cdk-lib/assertions';

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: unknown[];
  Condition?: Record<string, unknown>;
}

function resources(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

function only(template: Template, type: string): [string, CfnResource] {
  const found = Object.entries(resources(template, type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every Allow and Deny statement of the policies attached to the function's role. */
function roleStatements(template: Template, functionLogicalId: string): Statement[] {
  const fn = resources(template, 'AWS::Lambda::Function')[functionLogicalId];
  if (!fn) throw new Error(`no function ${functionLogicalId}`);
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statements: Statement[] = [];
  for (const policy of Object.values(resources(template, 'AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (!roles.includes(roleId)) continue;
    const doc = policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const s of doc.Statement) {
      statements.push({
        Effect: s.Effect as Statement['Effect'],
        Action: asArray(s.Action as string | string[]),
        Resource: asArray(s.Resource),
        ...(s.Condition !== undefined && { Condition: s.Condition as Record<string, unknown> }),
      });
    }
  }
  return statements;
}

/** A CloudFormation value as text: a reference becomes `<Logical>`/`<Logical.Attr>`, a join its parts. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return `<${v.Ref as string}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(text).join(sep);
    }
    if ('Fn::Select' in v || 'Fn::Split' in v || 'Fn::Sub' in v) return JSON.stringify(v);
  }
  return JSON.stringify(value);
}

/** The environment as the function sees it, references written as placeholder text. */
function environmentOf(fn: CfnResource): Record<string, string> {
  const vars = ((fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, text(v)]));
}

export { environmentOf, only, resources, roleStatements, text };
