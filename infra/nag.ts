/**
 * cdk-nag acknowledgements, each on the construct it concerns and with its reason, next to the
 * code that makes it necessary. A wildcard finding's id holds the resource as cdk-nag renders it
 * (`<Logical.Arn>/logs/*`), so it is computed from the same expression the statement uses.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy } from 'aws-cdk-lib/aws-iam';
// cdk-nag's own rendering of a resource into a finding id (pinned version; not in its index).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** `AwsSolutions-IAM5[Resource::…]` for a resource ARN that ends in a wildcard on purpose. */
function acknowledgeWildcard(scope: IConstruct, resource: string, reason: string): void {
  const rendered = flattenCfnReference(Stack.of(scope).resolve(resource));
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${rendered}]`, reason);
}

const BASIC_EXECUTION_ROLE =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

/**
 * A handler CDK itself adds for a deployment-time job (bucket notifications, the console upload):
 * its managed execution role, its runtime, and the wildcards of the policy CDK scopes for it.
 */
function acknowledgeCdkHandler(handler: IConstruct, job: string): void {
  const reason = `CDK's own handler that ${job} at deployment; CDK writes and scopes its role`;
  acknowledge(handler, BASIC_EXECUTION_ROLE, reason);
  acknowledge(handler, 'AwsSolutions-L1', `${reason}, and CDK picks its runtime`);
  const stack = Stack.of(handler);
  for (const policy of handler.node.findAll().filter((c): c is CfnPolicy => c instanceof CfnPolicy)) {
    const doc = stack.resolve(policy.policyDocument) as {
      Statement?: { Action: unknown; Resource: unknown }[];
    };
    for (const st of doc.Statement ?? []) {
      for (const action of [st.Action].flat() as string[]) {
        if (action.includes('*')) acknowledge(handler, `AwsSolutions-IAM5[Action::${action}]`, reason);
      }
      for (const resource of [st.Resource].flat()) {
        const rendered = flattenCfnReference(resource);
        if (rendered.includes('*')) acknowledge(handler, `AwsSolutions-IAM5[Resource::${rendered}]`, reason);
      }
    }
  }
}

export { acknowledge, acknowledgeCdkHandler, acknowledgeWildcard, BASIC_EXECUTION_ROLE };
