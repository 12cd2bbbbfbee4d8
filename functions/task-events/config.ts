/** The task-events function's configuration, parsed once per cold start. */
import { ENV } from '../../shared/resources.ts';
import { type Env, optional, scheduling } from '../common/env.ts';

function loadConfig(env: Env) {
  return { ...scheduling(env), notificationsTopicArn: optional(env, ENV.notificationsTopicArn) };
}

type Config = ReturnType<typeof loadConfig>;

export { type Config, loadConfig };
