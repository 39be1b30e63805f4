/**
 * A kept-alive connection the store has closed fails the next request with "socket hang up" before
 * the store sees it; the object store sends that request once more on a fresh connection. The store
 * here is a bare HTTP server that hangs up on chosen requests: the point is the socket, not S3.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isStaleConnection, ObjectStore } from '../../adapters/object-store.ts';

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server that hangs up on the requests whose (1-based) numbers are in `hangUps`, and answers 200 otherwise. */
async function storeThatHangsUp(hangUps: number[]): Promise<{ endpoint: string; requests: () => number }> {
  let count = 0;
  server = createServer((request, response) => {
    count += 1;
    if (hangUps.includes(count)) {
      request.socket.destroy();
      return;
    }
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-length': '0' }).end());
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, requests: () => count };
}

function storeAt(endpoint: string): ObjectStore {
  return new ObjectStore({
    endpoint,
    region: 'us-east-1',
    bucket: 'b',
    prefix: '',
    accessKeyId: 'k',
    secretAccessKey: 's',
    requestTimeoutMs: 2000,
  });
}

describe('object store connections', () => {
  it('sends a request once more when its connection hangs up', async () => {
    const { endpoint, requests } = await storeThatHangsUp([1]);
    const store = storeAt(endpoint);
    await store.putObject('a.json', '{}');
    await store.ping();
    expect(requests()).toBe(3);
    store.close();
  });

  it('gives up after the second hang-up, with the connection error', async () => {
    const { endpoint, requests } = await storeThatHangsUp([1, 2]);
    const store = storeAt(endpoint);
    const failure = await store.ping().catch((error: unknown) => error);
    expect(isStaleConnection(failure)).toBe(true);
    expect(requests()).toBe(2);
    store.close();
  });

  it('tells a closed connection from an answer of the store', () => {
    expect(isStaleConnection(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isStaleConnection({ name: 'TimeoutError', message: 'socket hang up' })).toBe(true);
    expect(isStaleConnection({ code: 'EPIPE', message: 'write EPIPE' })).toBe(true);
    expect(
      isStaleConnection({ code: 'ECONNRESET', message: 'reset', $metadata: { httpStatusCode: 500 } }),
    ).toBe(false);
    expect(isStaleConnection({ name: 'TimeoutError', message: 'Request timed out' })).toBe(false);
    expect(isStaleConnection(undefined)).toBe(false);
  });
});
