/**
 * A single-node Apache Kafka broker in KRaft mode (broker and controller in one JVM), listening on
 * 127.0.0.1 only, with its log in dataDir: formatted on the first start, kept across restarts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { brokerJars, findJava, KAFKA } from './broker-jars.ts';
import { startManagedProcess, type ManagedProcess } from './managed-process.ts';
import { sleep } from '../../adapters/sleep.ts';

const execFileAsync = promisify(execFile);

export interface KafkaBrokerOptions {
  /** The client port; the controller listens on the next free one given as controllerPort. */
  port: number;
  controllerPort: number;
  dataDir: string;
  logFile: string;
  /** Partitions of topics created without a count (the service's default for new topics). */
  defaultPartitions?: number;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface KafkaBroker {
  /** `127.0.0.1:<port>`, for KAFKA_BROKERS. */
  brokers: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** JVM settings for a small shared machine: a bounded heap, the serial collector. */
const JVM_OPTIONS = [
  '-Xms128m',
  '-Xmx768m',
  '-XX:+UseSerialGC',
  '-XX:-UsePerfData',
  '-Djava.awt.headless=true',
];

function serverProperties(options: KafkaBrokerOptions): string {
  const listen = `127.0.0.1:${options.port}`;
  const controller = `127.0.0.1:${options.controllerPort}`;
  return `# written by scripts/stack/kafka-broker.ts
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${controller}
listeners=PLAINTEXT://${listen},CONTROLLER://${controller}
advertised.listeners=PLAINTEXT://${listen}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${path.join(options.dataDir, 'log')}
num.partitions=${options.defaultPartitions ?? 3}
default.replication.factor=1
auto.create.topics.enable=false
# one node: internal topics with one replica and one partition (fast to create)
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
`;
}

function log4jConfig(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders><Console name="out" target="SYSTEM_OUT"><PatternLayout pattern="%d{ISO8601} %-5p [%c{1}] %m%n"/></Console></Appenders>
  <Loggers>
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Logger name="kafka.server.BrokerServer" level="INFO"/>
    <Root level="WARN"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
`;
}

/** Starts the broker (formatting dataDir first if it is new) and waits until it answers metadata requests. */
export async function startKafkaBroker(options: KafkaBrokerOptions): Promise<KafkaBroker> {
  const [lib, java] = await Promise.all([brokerJars(KAFKA, options.log), findJava()]);
  await mkdir(options.dataDir, { recursive: true });
  const properties = path.join(options.dataDir, 'server.properties');
  const log4j = path.join(options.dataDir, 'log4j2.xml');
  await writeFile(properties, serverProperties(options));
  await writeFile(log4j, log4jConfig());
  const classpath = `${lib}/*`;
  const jvm = [...JVM_OPTIONS, `-Dlog4j2.configurationFile=${log4j}`, '-cp', classpath];
  if (!existsSync(path.join(options.dataDir, 'log', 'meta.properties'))) {
    // a cluster id is 16 random bytes, base64url without padding
    const clusterId = randomBytes(16).toString('base64url');
    await execFileAsync(
      java,
      [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties],
      {
        timeout: 120_000,
      },
    );
  }
  const process = startManagedProcess('kafka', java, [...jvm, KAFKA.mainClass, properties], {
    logFile: options.logFile,
  });
  const brokers = `127.0.0.1:${options.port}`;
  await waitUntilServing(brokers, process, options.startTimeoutMs ?? 90_000).catch(async (error) => {
    await process.stop();
    throw error;
  });
  return { brokers, process, stop: () => process.stop(15_000) };
}

async function waitUntilServing(brokers: string, process: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: unknown;
  void process.exited.then((code) => (exited = code ?? 'exited'));
  let lastError: unknown;
  while (Date.now() < deadline && exited === undefined) {
    const admin = new Admin({
      clientId: 'readiness',
      bootstrapBrokers: [brokers],
      connectTimeout: 1000,
      requestTimeout: 2000,
      retries: 0,
    });
    try {
      const metadata = await admin.metadata({ topics: [] });
      if (metadata.brokers.size > 0) return;
    } catch (error) {
      lastError = error;
    } finally {
      await admin.close().catch(() => {});
    }
    await sleep(250);
  }
  throw new Error(
    `Kafka broker at ${brokers} did not become ready (${exited !== undefined ? `it exited: ${String(exited)}` : 'timed out'}): ${String(lastError)}`,
  );
}
