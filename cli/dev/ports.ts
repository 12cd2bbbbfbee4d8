/** A port the local stack wants, checked before anything starts, so "in use" is one clear line. */
import { createServer } from 'node:net';
import { CliError, EXIT } from '../errors.ts';

async function assertPortFree(port: number, what: string, flag: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new CliError(
              `port ${port} (${what}) is in use: stop what is using it (another updraft dev?) or pass ${flag} <port>`,
              EXIT.failed,
            )
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

export { assertPortFree };
