/** The worker function's configuration, parsed once per cold start. */
import { ENV } from '../../shared/resources.ts';
import { type Env, list, optional, required, scheduling } from '../common/env.ts';

function loadConfig(env: Env) {
  const cluster = optional(env, ENV.ecsCluster);
  return {
    ...scheduling(env),
    bucketName: required(env, ENV.bucketName),
    notificationsTopicArn: optional(env, ENV.notificationsTopicArn),
    /** Fargate tries: absent when the deployment has no ECS cluster (they then fail and say so). */
    ecs: cluster
      ? {
          cluster,
          taskDefinition: required(env, ENV.ecsTaskDefinition),
          containerName: required(env, ENV.ecsContainerName),
          subnets: list(env, ENV.ecsSubnets),
          securityGroups: list(env, ENV.ecsSecurityGroups),
          assignPublicIp: optional(env, ENV.ecsAssignPublicIp) === 'ENABLED',
        }
      : null,
  };
}

type Config = ReturnType<typeof loadConfig>;

export { type Config, loadConfig };
