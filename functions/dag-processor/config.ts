/** The dag-processor's configuration, parsed once per cold start. */
import { ENV } from '../../shared/resources.ts';
import { type Env, required, scheduling } from '../common/env.ts';

function loadConfig(env: Env) {
  return { ...scheduling(env), bucketName: required(env, ENV.bucketName) };
}

type Config = ReturnType<typeof loadConfig>;

export { type Config, loadConfig };
