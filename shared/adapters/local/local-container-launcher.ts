/**
 * The container launcher for local runs: the try's command runs as a subprocess in its own process
 * group (a container's image is not used: only its command), its output goes to the try's log, and
 * its exit is reported as the same "ECS Task State Change" event ECS sends (task-state-change.ts),
 * so the local stack ends the try through the task-events function like AWS does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { ContainerLaunch, ContainerLauncher } from '#ports';
import { taskStoppedEvent } from '../ecs/task-state-change.ts';

interface LocalContainerLauncherOptions {
  /** Receives the stopped event, as the EventBridge rule hands it to the task-events function. */
  onStopped: (event: ReturnType<typeof taskStoppedEvent>) => Promise<unknown>;
  /** Each output line of a container, for its try's log. */
  onOutput?: (launch: ContainerLaunch, line: string) => void;
  /** Time between SIGTERM and SIGKILL. @default 5000 */
  killGraceMs?: number;
}

const CONTAINER_NAME = 'task';

function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (buffer + chunk).split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts) onLine(line.replace(/\r$/, ''));
  });
  stream.on('end', () => buffer && onLine(buffer));
}

class LocalContainerLauncher implements ContainerLauncher {
  readonly #running = new Map<string, { child: ChildProcess; exited: Promise<void>; reason?: string }>();

  constructor(private readonly options: LocalContainerLauncherOptions) {}

  async launch(launch: ContainerLaunch): Promise<{ taskId: string }> {
    const [command, ...args] = launch.command;
    if (!command) throw new Error('the container has no command: locally only its command runs');
    const taskId = `local-task/${randomUUID()}`;
    const child = spawn(command, args, {
      env: { ...process.env, ...launch.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = (line: string) => this.options.onOutput?.(launch, line);
    lines(child.stdout, output);
    lines(child.stderr, output);
    const entry: { child: ChildProcess; exited: Promise<void>; reason?: string } = {
      child,
      exited: Promise.resolve(),
    };
    entry.exited = new Promise<void>((resolve) => {
      const report = (exitCode: number | null, reason?: string) => {
        this.#running.delete(taskId);
        const event = taskStoppedEvent({
          taskArn: taskId,
          containerName: CONTAINER_NAME,
          environment: launch.env,
          exitCode,
          ...(reason && { reason }),
        });
        void this.options.onStopped(event).finally(resolve);
      };
      child.once('error', (error) => report(null, `cannot start ${command}: ${error.message}`));
      child.once('exit', (code, signal) =>
        report(code, entry.reason ?? (signal ? `killed by ${signal}` : undefined)),
      );
    });
    this.#running.set(taskId, entry);
    return { taskId };
  }

  async stop(taskId: string, reason: string): Promise<void> {
    const entry = this.#running.get(taskId);
    if (!entry?.child.pid) return;
    entry.reason = reason;
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-entry.child.pid!, signal);
      } catch {
        // Already gone.
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), this.options.killGraceMs ?? 5_000);
    await entry.exited;
    clearTimeout(timer);
  }

  /** Stops every container still running (the local stack shutting down). */
  async stopAll(reason: string): Promise<void> {
    await Promise.all([...this.#running.keys()].map((id) => this.stop(id, reason)));
  }
}

export { CONTAINER_NAME, LocalContainerLauncher, type LocalContainerLauncherOptions };
