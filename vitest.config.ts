import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/dynamodb.global-setup.ts', 'test/setup/fauxqs.global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
