/** Ports for the stacks' services: free, and out of the range outgoing connections take theirs from. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack/free-port.ts';

describe('freePort', () => {
  it('gives distinct ports that can be bound, below the ephemeral range', async () => {
    const ephemeralFrom = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(ephemeralFrom);
      await new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    }
    expect(new Set(ports).size).toBeGreaterThan(15);
  });
});
