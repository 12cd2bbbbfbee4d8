/**
 * The CDK app of `npx cdk deploy` (cdk.json): one stack holding the `Updraft` construct, checked by
 * cdk-nag's AwsSolutions rules at synthesis. Context `updraft:stackName` renames the stack.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Updraft } from '../updraft.ts';

const app = new App();
const stack = new Stack(app, app.node.tryGetContext('updraft:stackName') ?? 'Updraft', {
  description: 'Updraft: serverless workflow orchestrator (DAGs, pools, schedules)',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
new Updraft(stack, 'Updraft');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
