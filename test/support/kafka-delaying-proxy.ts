/**
 * A TCP proxy in front of a plaintext Kafka listener that holds each Produce request for
 * `produceLatencyMs` before passing it on: a broker slower than the heartbeat timeout, for the
 * requests that publish, while metadata, topic creation and fetches go at full speed. It reads the
 * Kafka framing (a 4-byte size, then the request header, whose first field is the api key; Produce
 * is 0) and keeps each connection's requests in order, as a broker answers them. The broker must
 * advertise this proxy's address for its listener (scripts/stack/kafka-broker.ts `delayedListener`),
 * or clients would reach the broker directly after their first metadata request. Plaintext only:
 * through TLS the framing cannot be read.
 */
import net from 'node:net';

const PRODUCE_API_KEY = 0;

export interface KafkaDelayingProxy {
  /** `127.0.0.1:<port>`, for KAFKA_BROKERS. */
  brokers: string;
  port: number;
  /** The port of the listener it passes connections on to. */
  targetPort: number;
  /** The hold of each Produce request from now on. */
  produceLatencyMs: number;
  /** Produce requests held so far. */
  delayedProduces: number;
  close(): Promise<void>;
}

/** Listens on `port` (0: any) and passes every connection on to `target` (`host:port`). */
export async function startKafkaDelayingProxy(target: string, port = 0): Promise<KafkaDelayingProxy> {
  const [host, targetPort] = target.split(':') as [string, string];
  const sockets = new Set<net.Socket>();
  const state = { produceLatencyMs: 0, delayedProduces: 0 };
  const server = net.createServer((client) => {
    const broker = net.connect(Number(targetPort), host);
    sockets.add(client).add(broker);
    let pending = Buffer.alloc(0);
    // each request is released after the one before it, never before its own hold is over
    let releaseChain = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 6) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = pending.subarray(0, 4 + size);
        pending = pending.subarray(4 + size);
        const hold = frame.readInt16BE(4) === PRODUCE_API_KEY ? state.produceLatencyMs : 0;
        if (hold > 0) state.delayedProduces += 1;
        const until = Date.now() + hold;
        releaseChain = releaseChain.then(async () => {
          const wait = until - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          if (!broker.destroyed) broker.write(frame);
        });
      }
    });
    broker.pipe(client);
    const closeBoth = () => {
      client.destroy();
      broker.destroy();
      sockets.delete(client);
      sockets.delete(broker);
    };
    client.on('close', closeBoth).on('error', closeBoth);
    broker.on('close', closeBoth).on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as net.AddressInfo;
  return {
    brokers: `127.0.0.1:${bound}`,
    port: bound,
    targetPort: Number(targetPort),
    get produceLatencyMs() {
      return state.produceLatencyMs;
    },
    set produceLatencyMs(ms: number) {
      state.produceLatencyMs = ms;
    },
    get delayedProduces() {
      return state.delayedProduces;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
