/**
 * cdk-nag acknowledgements, each on the construct it concerns and with its reason, next to the
 * code that makes it necessary. A wildcard finding's id holds the resource as cdk-nag renders it
 * (`<Logical.Arn>/logs/*`), so it is computed from the same expression the statement uses.
 */
import { Stack, Validations } from 'aws-cdk-lib';
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

export { acknowledge, acknowledgeWildcard };
