/** The CDK construct of Updraft and its props (infra/bin/updraft.ts is the app `cdk deploy` runs). */
export { BUCKET_ACCESS, type BucketAccess } from './access.ts';
export type { ApiAuth, FargateProps, SchedulerProps, UpdraftProps, WorkerProps } from './props.ts';
export { UpdraftPropsError } from './props.ts';
export { Updraft } from './updraft.ts';
