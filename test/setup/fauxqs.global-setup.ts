/**
 * Starts one fauxqs (SQS and S3 emulator, in process, on a free port) for the whole test run and hands
 * its endpoint to the tests. Tests create their own queues and buckets (test/support/aws-local.ts).
 */
import { startFauxqs } from 'fauxqs';
import type { TestProject } from 'vitest/node';

export default async function setup(project: TestProject) {
  const server = await startFauxqs({ port: 0, logger: false });
  project.provide('fauxqsEndpoint', server.address);
  return async () => {
    await server.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    fauxqsEndpoint: string;
  }
}
