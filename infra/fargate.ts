/**
 * Fargate for `executor: 'fargate'` tries: the cluster (in a VPC given or created), the task
 * definition whose container runs the command, a security group with no inbound rule, and the
 * EventBridge rule that routes the tasks' state changes (shared/resources.ts) to task-events.
 */
import { ArnFormat, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type ISecurityGroup, type IVpc, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import {
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  FargateTaskDefinition,
  type ICluster,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type EnvKey, RULES } from '../shared/resources.ts';
import type { Grantee } from './access.ts';
import { acknowledge, acknowledgeWildcard } from './nag.ts';
import type { ResolvedProps } from './props.ts';

/** The container of the task definition that runs a try's command (ECS_CONTAINER_NAME). */
const CONTAINER_NAME = 'task';

interface UpdraftFargateProps {
  config: Exclude<ResolvedProps['fargate'], false>;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
  taskEvents: IFunction;
  /** Where events the task-events function could not take go. */
  deadLetterQueue: IQueue;
}

class UpdraftFargate extends Construct {
  readonly cluster: ICluster;
  readonly vpc: IVpc;
  readonly taskDefinition: FargateTaskDefinition;
  readonly securityGroup: ISecurityGroup;
  readonly subnetIds: string[];
  readonly assignPublicIp: boolean;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: UpdraftFargateProps) {
    super(scope, id);
    const { config } = props;
    this.vpc = config.cluster?.vpc ?? config.vpc ?? this.#createVpc();
    this.cluster =
      config.cluster ??
      new Cluster(this, 'Cluster', { vpc: this.vpc, containerInsightsV2: ContainerInsights.ENABLED });
    this.securityGroup = new SecurityGroup(this, 'Tasks', {
      vpc: this.vpc,
      description: 'Updraft Fargate tries: no inbound, all outbound',
      allowAllOutbound: true,
    });
    this.subnetIds = this.vpc.selectSubnets(config.subnets ?? { subnetType: SubnetType.PUBLIC }).subnetIds;
    // Tasks in public subnets reach ECR and AWS through a public IP (there is no NAT gateway).
    const publicIds = new Set(this.vpc.publicSubnets.map((sn) => sn.subnetId));
    this.assignPublicIp = config.assignPublicIp ?? this.subnetIds.every((id) => publicIds.has(id));

    this.taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: config.cpu,
      memoryLimitMiB: config.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.taskDefinition.addContainer(CONTAINER_NAME, {
      image: config.image ?? ContainerImage.fromRegistry('public.ecr.aws/amazonlinux/amazonlinux:2023'),
      essential: true,
      logging: LogDrivers.awsLogs({ logGroup, streamPrefix: 'updraft' }),
    });

    const rule = RULES.ecsTaskStateChange;
    this.rule = new Rule(this, 'TaskStopped', {
      description: 'Updraft: a Fargate try stopped; task-events ends the try',
      eventPattern: {
        source: [...rule.eventPattern.source],
        detailType: [...rule.eventPattern['detail-type']],
        detail: {
          clusterArn: [this.cluster.clusterArn],
          lastStatus: [...rule.eventPattern.detail.lastStatus],
          startedBy: rule.eventPattern.detail.startedBy.map((m) => ({ ...m })),
        },
      },
      targets: [
        new LambdaFunction(props.taskEvents, { deadLetterQueue: props.deadLetterQueue, retryAttempts: 185 }),
      ],
    });
  }

  /** Two public subnets and no NAT gateway: nothing billed while no task runs. */
  #createVpc(): Vpc {
    const vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: SubnetType.PUBLIC }],
    });
    vpc.addFlowLog('FlowLog');
    return vpc;
  }

  /** The worker's variables for RunTask (functions/worker/config.ts). */
  env(): Partial<Record<EnvKey, string>> {
    return {
      ecsCluster: this.cluster.clusterArn,
      ecsTaskDefinition: this.taskDefinition.taskDefinitionArn,
      ecsContainerName: CONTAINER_NAME,
      ecsSubnets: this.subnetIds.join(','),
      ecsSecurityGroups: this.securityGroup.securityGroupId,
      ecsAssignPublicIp: this.assignPublicIp ? 'ENABLED' : 'DISABLED',
    };
  }

  /**
   * RunTask of this family and of its per-image siblings (`<family>-<hash>`, the launcher registers
   * them) on this cluster only; StopTask of this cluster's tasks; PassRole of the task's two roles
   * to ECS. Describe/RegisterTaskDefinition have no resource-level permissions in IAM.
   */
  grantLaunch(grantee: Grantee): void {
    const stack = Stack.of(this);
    const family = this.taskDefinition.family;
    const taskDefinitionArn = (name: string) =>
      stack.formatArn({
        service: 'ecs',
        resource: 'task-definition',
        resourceName: name,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const add = (s: PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(s);
    const revisions = taskDefinitionArn(`${family}:*`);
    const siblings = taskDefinitionArn(`${family}-*:*`);
    add(
      new PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [revisions, siblings],
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
      }),
    );
    acknowledgeWildcard(
      grantee,
      revisions,
      "every revision of Updraft's task definition, on its cluster only",
    );
    acknowledgeWildcard(
      grantee,
      siblings,
      'the per-image siblings the launcher registers (<family>-<hash>), on its cluster only',
    );
    const tasks = stack.formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${this.cluster.clusterName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    add(new PolicyStatement({ actions: ['ecs:StopTask'], resources: [tasks] }));
    acknowledgeWildcard(
      grantee,
      tasks,
      "tasks of Updraft's cluster only (a try's task id is known at run time)",
    );
    add(
      new PolicyStatement({
        actions: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'],
        resources: ['*'],
      }),
    );
    acknowledge(
      grantee,
      'AwsSolutions-IAM5[Resource::*]',
      'ecs:DescribeTaskDefinition and ecs:RegisterTaskDefinition have no resource-level permissions',
    );
    add(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.taskDefinition.taskRole.roleArn, this.taskDefinition.obtainExecutionRole().roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
  }
}

export { CONTAINER_NAME, UpdraftFargate };
