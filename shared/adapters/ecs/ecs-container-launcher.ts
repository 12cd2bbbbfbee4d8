/**
 * Container tries on Fargate through ECS `RunTask`. The try's identity travels in the container's
 * environment (`UPDRAFT_TRY`), and `startedBy: 'updraft'` lets one EventBridge rule route the tasks'
 * state changes to the task-events function (see task-state-change.ts), which ends the try.
 *
 * A task definition fixes its image, and RunTask cannot override it: a container task whose image
 * differs from the deployment's task definition gets a sibling definition (same roles, network
 * mode, cpu and memory, that image) registered once per image and remembered for the container's
 * life. Shell tasks run `bash -c <command>` in the deployment's image.
 */
import { createHash } from 'node:crypto';
import {
  type ContainerDefinition,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { ContainerLaunch, ContainerLauncher } from '#ports';

interface EcsLauncherOptions {
  cluster: string;
  /** The deployment's task definition (family, family:revision or ARN). */
  taskDefinition: string;
  /** Its container that runs the command. */
  containerName: string;
  subnets: string[];
  securityGroups: string[];
  /** @default false (tasks reach AWS through the VPC's NAT or endpoints) */
  assignPublicIp?: boolean;
}

const STARTED_BY = 'updraft';

class EcsLaunchError extends Error {
  override name = 'EcsLaunchError';
}

class EcsContainerLauncher implements ContainerLauncher {
  readonly #definitions = new Map<string, Promise<string>>();
  #base: Promise<TaskDefinition> | null = null;

  constructor(
    private readonly client: ECSClient,
    private readonly options: EcsLauncherOptions,
  ) {}

  async launch(launch: ContainerLaunch): Promise<{ taskId: string }> {
    const taskDefinition = launch.image
      ? await this.#definitionFor(launch.image)
      : this.options.taskDefinition;
    const response = await this.client.send(
      new RunTaskCommand({
        cluster: this.options.cluster,
        taskDefinition,
        launchType: 'FARGATE',
        count: 1,
        startedBy: STARTED_BY,
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: this.options.subnets,
            securityGroups: this.options.securityGroups,
            assignPublicIp: this.options.assignPublicIp ? 'ENABLED' : 'DISABLED',
          },
        },
        overrides: {
          containerOverrides: [
            {
              name: this.options.containerName,
              ...(launch.command.length > 0 && { command: launch.command }),
              environment: Object.entries(launch.env).map(([name, value]) => ({ name, value })),
            },
          ],
          ...(launch.cpu !== undefined && { cpu: String(launch.cpu) }),
          ...(launch.memoryMiB !== undefined && { memory: String(launch.memoryMiB) }),
        },
      }),
    );
    const failure = response.failures?.[0];
    if (failure)
      throw new EcsLaunchError(
        `RunTask failed: ${failure.reason ?? 'unknown'}${failure.detail ? ` (${failure.detail})` : ''}`,
      );
    const taskArn = response.tasks?.[0]?.taskArn;
    if (!taskArn) throw new EcsLaunchError('RunTask started no task');
    return { taskId: taskArn };
  }

  async stop(taskId: string, reason: string): Promise<void> {
    try {
      await this.client.send(
        new StopTaskCommand({ cluster: this.options.cluster, task: taskId, reason: reason.slice(0, 255) }),
      );
    } catch (error) {
      // A task that already stopped (or was never found) needs no stopping.
      if (!(error instanceof Error && error.name === 'InvalidParameterException')) throw error;
    }
  }

  #definitionFor(image: string): Promise<string> {
    let pending = this.#definitions.get(image);
    if (!pending) {
      pending = this.#register(image);
      this.#definitions.set(image, pending);
      pending.catch(() => this.#definitions.delete(image));
    }
    return pending;
  }

  async #register(image: string): Promise<string> {
    this.#base ??= this.client
      .send(new DescribeTaskDefinitionCommand({ taskDefinition: this.options.taskDefinition }))
      .then((r) => {
        if (!r.taskDefinition)
          throw new EcsLaunchError(`task definition ${this.options.taskDefinition} not found`);
        return r.taskDefinition;
      });
    const base = await this.#base;
    const container = base.containerDefinitions?.find((c) => c.name === this.options.containerName);
    if (!container)
      throw new EcsLaunchError(`task definition has no container ${this.options.containerName}`);
    if (container.image === image) return base.taskDefinitionArn ?? this.options.taskDefinition;
    const suffix = createHash('sha256').update(image).digest('hex').slice(0, 10);
    const containers: ContainerDefinition[] = (base.containerDefinitions ?? []).map((c) =>
      c.name === this.options.containerName ? { ...c, image } : c,
    );
    const registered = await this.client.send(
      new RegisterTaskDefinitionCommand({
        family: `${base.family}-${suffix}`,
        taskRoleArn: base.taskRoleArn,
        executionRoleArn: base.executionRoleArn,
        networkMode: base.networkMode,
        requiresCompatibilities: base.requiresCompatibilities,
        cpu: base.cpu,
        memory: base.memory,
        runtimePlatform: base.runtimePlatform,
        containerDefinitions: containers,
      }),
    );
    const arn = registered.taskDefinition?.taskDefinitionArn;
    if (!arn) throw new EcsLaunchError(`registering a task definition for ${image} returned none`);
    return arn;
  }
}

export { EcsContainerLauncher, EcsLaunchError, type EcsLauncherOptions, STARTED_BY };
