/**
 * ElasticMQ, an SQS-compatible server, listening on 127.0.0.1 only. Queues and messages are kept in
 * dataDir (queues in a file, messages in an H2 database), so a restart loses nothing it accepted.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brokerJars, ELASTICMQ, findJava } from './broker-jars.ts';
import { startManagedProcess, type ManagedProcess } from './managed-process.ts';
import { sleep } from '../../adapters/sleep.ts';

export interface ElasticMqOptions {
  port: number;
  dataDir: string;
  logFile: string;
  startTimeoutMs?: number;
  log?: (line: string) => void;
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

function config(options: ElasticMqOptions): string {
  return `# written by scripts/stack/elasticmq.ts
include classpath("application.conf")
node-address { protocol = http, host = 127.0.0.1, port = ${options.port}, context-path = "" }
rest-sqs { enabled = true, bind-port = ${options.port}, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
aws { region = ${ELASTICMQ_CREDENTIALS.region}, accountId = 000000000000 }
queues-storage { enabled = true, path = ${JSON.stringify(path.join(options.dataDir, 'queues.conf'))} }
messages-storage { enabled = true, uri = ${JSON.stringify(`jdbc:h2:${path.join(options.dataDir, 'messages')};WRITE_DELAY=0`)} }
`;
}

export async function startElasticMq(options: ElasticMqOptions): Promise<ElasticMq> {
  const [lib, java] = await Promise.all([brokerJars(ELASTICMQ, options.log), findJava()]);
  await mkdir(options.dataDir, { recursive: true });
  const configFile = path.join(options.dataDir, 'elasticmq.conf');
  await writeFile(configFile, config(options));
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
  await waitUntilServing(endpoint, process, options.startTimeoutMs ?? 60_000).catch(async (error) => {
    await process.stop();
    throw error;
  });
  return { endpoint, ...ELASTICMQ_CREDENTIALS, process, stop: () => process.stop() };
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
