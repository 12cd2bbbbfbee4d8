/** Structured JSON logs (Powertools Logger); `POWERTOOLS_LOG_LEVEL` sets the level. */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '#ports';

/** A Powertools logger for `updraft-<name>`, as the services' Logger port. */
function functionLogger(name: string, options: { logLevel?: string } = {}): Logger {
  const logger = new PowertoolsLogger({
    serviceName: `updraft-${name}`,
    ...(options.logLevel && { logLevel: options.logLevel as 'INFO' }),
  });
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, extra?: Record<string, unknown>) =>
      extra ? logger[level](message, extra) : logger[level](message);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export { functionLogger };
