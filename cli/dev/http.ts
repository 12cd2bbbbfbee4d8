/**
 * What `updraft dev` serves over HTTP on `--port`. The API and the console mount here: replace
 * `devRequestHandler` with a function that builds their request listener from the running stack
 * (`stack.deps` has the store, queues, schedules, logs; `stack.notifier.recent()` the latest
 * failures). Until then it answers `GET /health` with what is running.
 */
import type { RequestListener } from 'node:http';
import type { LocalStack } from './stack.ts';

function devRequestHandler(stack: LocalStack): RequestListener {
  return (request, response) => {
    if (request.method === 'GET' && (request.url === '/health' || request.url === '/')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          status: 'ok',
          endpoints: stack.endpoints,
          table: stack.names.table,
          bucket: stack.names.bucket,
          notifications: stack.notifier.recent().slice(-10),
        }),
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: `no route for ${request.method} ${request.url}` }));
  };
}

export { devRequestHandler };
