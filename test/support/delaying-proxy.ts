/**
 * An HTTP proxy in front of an SQS- or S3-compatible server that holds the requests `delays` picks (by
 * their `x-amz-target`, e.g. `AmazonSQS.SendMessageBatch`) before passing them on unchanged: a broker
 * slower than the api waits. It keeps what it passed on, and says when none is in flight.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayingProxy {
  url: string;
  /** Bodies of the delayed requests, once passed on. */
  delayed: string[];
  /** Every request passed on: `METHOD /path`. */
  requests: string[];
  /** Resolves once no request is held or in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startDelayingProxy(
  target: string,
  delays: (target: string) => number,
): Promise<DelayingProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const delayed: string[] = [];
  const requests: string[] = [];
  let inFlight = 0;
  let wake: (() => void)[] = [];
  const settle = () => {
    inFlight -= 1;
    if (inFlight === 0) for (const resolve of wake.splice(0)) resolve();
  };
  const server = http.createServer((request, response) => {
    inFlight += 1;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const delayMs = delays(String(request.headers['x-amz-target'] ?? ''));
      setTimeout(() => {
        if (delayMs > 0) delayed.push(body.toString());
        requests.push(`${request.method} ${request.url}`);
        const outgoing = http.request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: request.method,
            path: request.url,
            headers: request.headers,
            agent,
          },
          (answer) => {
            // the client may have given up: the request goes on regardless, as over a slow network
            if (!response.destroyed) response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
            answer.on('end', settle);
          },
        );
        outgoing.on('error', (error) => {
          if (!response.destroyed) response.writeHead(502).end(String(error));
          settle();
        });
        outgoing.end(body);
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    delayed,
    requests,
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => wake.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        wake = [];
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
