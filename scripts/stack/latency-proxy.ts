/**
 * An HTTP proxy in front of the S3 store that holds every request for a fixed time before passing
 * it on (the bench's `--list-latency-ms`; tests make a store slower than the heartbeat timeout with
 * it): a local store answers a listing in a few milliseconds, real S3 in
 * 100 to 300, and that latency, not bandwidth, is what caps a single lister. Requests are passed on
 * unchanged, Host header included, so their signatures still verify.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LatencyProxy {
  url: string;
  /** The hold of each request from now on (a test slows its store down mid-way). */
  latencyMs: number;
  close(): Promise<void>;
}

export async function startLatencyProxy(target: string, latencyMs: number): Promise<LatencyProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const hold = { ms: latencyMs };
  const server = http.createServer((request, response) => {
    const forward = () => {
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
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      outgoing.on('error', (error) => {
        response.writeHead(502);
        response.end(String(error));
      });
      request.pipe(outgoing);
    };
    if (hold.ms > 0) setTimeout(forward, hold.ms);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get latencyMs() {
      return hold.ms;
    },
    set latencyMs(ms: number) {
      hold.ms = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
