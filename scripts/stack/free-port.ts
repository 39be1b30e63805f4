import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { sleep } from '../../adapters/sleep.ts';

/** The lowest port Linux gives outgoing connections (ip_local_port_range; 32768 by default). */
function ephemeralPortsFrom(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

const LOWEST_PORT = 20_000;

/** Whether `port` (0: any) can be bound on 127.0.0.1 now; the port bound, or undefined. */
function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1, below the ephemeral range: a service given it
 * binds it seconds later (Postgres after initdb), and in between an outgoing connection of another
 * process could have taken an ephemeral port as its local port (CI saw Postgres exit on start).
 */
export async function freePort(): Promise<number> {
  const below = ephemeralPortsFrom();
  for (let attempt = 0; below - LOWEST_PORT > 1000 && attempt < 50; attempt += 1) {
    const port = await tryBind(LOWEST_PORT + Math.floor(Math.random() * (below - LOWEST_PORT)));
    if (port) return port;
  }
  const port = await tryBind(0);
  if (!port) throw new Error('no free port on 127.0.0.1');
  return port;
}

/** Resolves once something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}
