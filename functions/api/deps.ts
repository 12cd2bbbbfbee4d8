/** What the API app needs: the services' dependencies plus logs, a clock, auth and what is deployed. */
import type { Clock, LogStore, ResultStore } from '#ports';
import type { ServiceDeps } from '#services/deps.ts';
import type { AuthConfig } from './auth.ts';

export interface DeploymentInfo {
  /** Updraft's version (package.json) or a release label. */
  version: string;
  /** Source revision of the deployment, when known. */
  commit: string | null;
  /** Where it runs: `local`, or the deployment's stage name. */
  stage: string;
  /** The bucket DAG files are uploaded to (under `dags/`), for `updraft dags deploy`; `endpoint` only for an emulator. */
  dagBucket?: { name: string; endpoint: string | null };
}

export interface ApiDeps extends ServiceDeps {
  logs: LogStore;
  /** Where results too large for the task-instance item are kept; without it they show as references. */
  results?: ResultStore;
  clock: Clock;
  auth: AuthConfig;
  deployment: DeploymentInfo;
}
