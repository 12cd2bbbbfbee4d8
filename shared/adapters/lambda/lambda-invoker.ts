/** `lambdaInvoke` tasks through the Lambda API: the payload as JSON, the result parsed back. */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { FunctionInvoker } from '#ports';

class LambdaFunctionError extends Error {
  override name = 'LambdaFunctionError';
}

class LambdaInvoker implements FunctionInvoker {
  constructor(private readonly client: LambdaClient) {}

  async invoke(
    functionName: string,
    payload: unknown,
    invocationType: 'RequestResponse' | 'Event',
    signal: AbortSignal,
  ): Promise<unknown> {
    const response = await this.client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: invocationType,
        Payload: new TextEncoder().encode(JSON.stringify(payload ?? {})),
      }),
      { abortSignal: signal },
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    if (response.FunctionError) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as { errorMessage?: string; errorType?: string };
        message = `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage ?? text}`;
      } catch {
        // Not JSON: keep the text.
      }
      throw new LambdaFunctionError(`${functionName} failed: ${message}`);
    }
    if (invocationType === 'Event' || text === '') return { statusCode: response.StatusCode ?? null };
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
}

export { LambdaFunctionError, LambdaInvoker };
