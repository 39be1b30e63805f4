/**
 * ElasticMQ, an SQS-compatible server, listening on 127.0.0.1 only. Queues and messages are kept in
 * dataDir (an H2 database), so a restart loses nothing it accepted.
 *
 * ElasticMQ serves requests before it has restored its persisted messages (about half a second for
 * a few hundred), and a FIFO queue deduplicates only against messages it knows: a resend in that
 * window is kept twice. With `holdUntilRestored` ElasticMQ listens on an inner port, and the port it
 * is known by opens, through a TCP gate, only once every queue it had when it was last stopped has
 * logged its restore (the queues are written to dataDir on stop). Test stacks that restart it use
 * that; real SQS does not restart.
 */
import { readFile, mkdir, open, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { brokerJars, ELASTICMQ, findJava } from './broker-jars.ts';
import { startManagedProcess, type ManagedProcess } from './managed-process.ts';
import { sleep } from '../../adapters/sleep.ts';
import { freePort } from './free-port.ts';

export interface ElasticMqOptions {
  port: number;
  dataDir: string;
  logFile: string;
  startTimeoutMs?: number;
  log?: (line: string) => void;
  /** Keep `port` closed until the persisted messages are restored (see above). */
  holdUntilRestored?: boolean;
}

export interface ElasticMq {
  /** http://127.0.0.1:<port>, for SQS_ENDPOINT. */
  endpoint: string;
  /** ElasticMQ accepts any credentials; the SDK needs some. */
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export const ELASTICMQ_CREDENTIALS = {
  accessKeyId: 'elasticmq',
  secretAccessKey: 'elasticmq',
  region: 'us-east-1',
};

function config(options: ElasticMqOptions, bindPort: number): string {
  return `# written by scripts/stack/elasticmq.ts
include classpath("application.conf")
node-address { protocol = http, host = 127.0.0.1, port = ${options.port}, context-path = "" }
rest-sqs { enabled = true, bind-port = ${bindPort}, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
aws { region = ${ELASTICMQ_CREDENTIALS.region}, accountId = 000000000000 }
queues-storage { enabled = true, path = ${JSON.stringify(path.join(options.dataDir, 'queues.conf'))} }
messages-storage { enabled = true, uri = ${JSON.stringify(`jdbc:h2:${path.join(options.dataDir, 'messages')};WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE`)} }
`;
}

export async function startElasticMq(options: ElasticMqOptions): Promise<ElasticMq> {
  const [lib, java] = await Promise.all([brokerJars(ELASTICMQ, options.log), findJava()]);
  await mkdir(options.dataDir, { recursive: true });
  const hold = options.holdUntilRestored === true;
  const bindPort = hold ? await freePort() : options.port;
  const configFile = path.join(options.dataDir, 'elasticmq.conf');
  await writeFile(configFile, config(options, bindPort));
  const logOffset = await sizeOf(options.logFile);
  const process = startManagedProcess(
    'elasticmq',
    java,
    [
      '-Xms64m',
      '-Xmx512m',
      '-XX:+UseSerialGC',
      '-XX:-UsePerfData',
      `-Dconfig.file=${configFile}`,
      '-cp',
      `${lib}/*`,
      ELASTICMQ.mainClass,
    ],
    { logFile: options.logFile },
  );
  const endpoint = `http://127.0.0.1:${options.port}`;
  const inner = `http://127.0.0.1:${bindPort}`;
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let gate: TcpGate | undefined;
  try {
    await waitUntilServing(inner, process, timeoutMs);
    if (hold) {
      await waitUntilRestored(options, logOffset, Date.now() + timeoutMs);
      gate = await openTcpGate(options.port, bindPort);
    }
  } catch (error) {
    await process.stop();
    throw error;
  }
  const queuesFile = path.join(options.dataDir, QUEUES_FILE);
  return {
    endpoint,
    ...ELASTICMQ_CREDENTIALS,
    process,
    async stop() {
      if (hold) await writeFile(queuesFile, JSON.stringify(await queueNames(inner).catch(() => [])));
      await gate?.close();
      await process.stop();
    },
  };
}

const QUEUES_FILE = 'queues-at-stop.json';

async function sizeOf(file: string): Promise<number> {
  try {
    const handle = await open(file, 'r');
    try {
      return (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  } catch {
    return 0;
  }
}

/** The names of the queues ElasticMQ serves now (query API, XML answer). */
async function queueNames(endpoint: string): Promise<string[]> {
  const response = await fetch(`${endpoint}/?Action=ListQueues`, { signal: AbortSignal.timeout(5000) });
  const body = await response.text();
  return [...body.matchAll(/<QueueUrl>[^<]*\/([^/<]+)<\/QueueUrl>/g)].map((match) => match[1]!);
}

/** Waits until the log, past `offset`, says each queue written at the last stop was restored. */
async function waitUntilRestored(options: ElasticMqOptions, offset: number, deadline: number): Promise<void> {
  let expected: string[];
  try {
    expected = JSON.parse(await readFile(path.join(options.dataDir, QUEUES_FILE), 'utf8')) as string[];
  } catch {
    return; // never stopped by us: nothing persisted to wait for
  }
  for (;;) {
    const log = (await readFile(options.logFile, 'utf8')).slice(offset);
    const restored = new Set(
      [...log.matchAll(/Restored \d+ messages in queue (\S+)/g)].map((match) => match[1]),
    );
    const waiting = expected.filter((name) => !restored.has(name));
    if (waiting.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`ElasticMQ did not restore the queues ${waiting.join(', ')}; see ${options.logFile}`);
    await sleep(100);
  }
}

interface TcpGate {
  close(): Promise<void>;
}

/** Accepts on `port` and pipes each connection to `targetPort`. */
async function openTcpGate(port: number, targetPort: number): Promise<TcpGate> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function waitUntilServing(endpoint: string, process: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: unknown;
  void process.exited.then((code) => (exited = code ?? 'exited'));
  let lastError: unknown;
  while (Date.now() < deadline && exited === undefined) {
    try {
      const response = await fetch(`${endpoint}/?Action=ListQueues`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      lastError = new Error(`HTTP ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await sleep(200);
  }
  throw new Error(
    `ElasticMQ at ${endpoint} did not become ready (${exited !== undefined ? `it exited: ${String(exited)}` : 'timed out'}): ${String(lastError)}`,
  );
}
