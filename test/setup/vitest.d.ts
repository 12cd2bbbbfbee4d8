/** Values the global setups hand to tests through vitest's `provide` / `inject`. */
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** DynamoDB Local started by test/setup/dynamodb.global-setup.ts. */
    ddbEndpoint: string;
  }
}
