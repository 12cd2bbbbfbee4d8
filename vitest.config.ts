import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/dynamodb.global-setup.ts', 'test/setup/fauxqs.global-setup.ts'],
    // Emulator-backed tests (races on DynamoDB Local, the local stack) run several times slower on a loaded 2-core CI machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
