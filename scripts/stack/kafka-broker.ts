/**
 * A single-node Apache Kafka broker in KRaft mode (broker and controller in one JVM), listening on
 * 127.0.0.1 only, with its log in dataDir: formatted on the first start, kept across restarts.
 *
 * With saslPort, a SASL_SSL listener beside the plaintext one, as managed Kafka services offer: a
 * user `replay` (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; the SCRAM credentials made when the storage
 * is formatted) and a certificate for 127.0.0.1 and localhost, signed by a CA of the broker's own,
 * made with openssl at the first start (dataDir/tls/, kept so that clients keep trusting it).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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
  /** A SASL_SSL listener on this port too; none when unset. */
  saslPort?: number;
  /**
   * A third, plaintext listener on `port` that advertises `advertisedPort`, where a proxy in front
   * of it listens: clients that bootstrap through the proxy stay on it (tests slow the broker down).
   */
  delayedListener?: { port: number; advertisedPort: number };
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
  /** The SASL_SSL listener (with saslPort), and what a client needs to use it. */
  saslSsl?: KafkaSaslSsl;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface KafkaSaslSsl {
  /** `127.0.0.1:<saslPort>` */
  brokers: string;
  username: string;
  password: string;
  /** PEM of the CA that signed the broker's certificate, for KAFKA_TLS_CA_FILE. */
  caFile: string;
}

const SASL_USERNAME = 'replay';
const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** JVM settings for a small shared machine: a bounded heap, the serial collector. */
const JVM_OPTIONS = [
  '-Xms128m',
  '-Xmx768m',
  '-XX:+UseSerialGC',
  '-XX:-UsePerfData',
  '-Djava.awt.headless=true',
];

interface SaslListener {
  port: number;
  password: string;
  keystore: string;
  keystorePassword: string;
}

function serverProperties(options: KafkaBrokerOptions, sasl?: SaslListener): string {
  const listen = `127.0.0.1:${options.port}`;
  const controller = `127.0.0.1:${options.controllerPort}`;
  const secure = sasl ? `,SASL_SSL://127.0.0.1:${sasl.port}` : '';
  const delayed = options.delayedListener;
  const delayedListen = delayed ? `,DELAYED://127.0.0.1:${delayed.port}` : '';
  const delayedAdvertised = delayed ? `,DELAYED://127.0.0.1:${delayed.advertisedPort}` : '';
  return `# written by scripts/stack/kafka-broker.ts
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${controller}
listeners=PLAINTEXT://${listen}${secure}${delayedListen},CONTROLLER://${controller}
advertised.listeners=PLAINTEXT://${listen}${secure}${delayedAdvertised}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,DELAYED:PLAINTEXT,CONTROLLER:PLAINTEXT
${sasl ? saslListenerProperties(sasl) : ''}log.dirs=${path.join(options.dataDir, 'log')}
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

function saslListenerProperties(sasl: SaslListener): string {
  const prefix = 'listener.name.sasl_ssl';
  return `sasl.enabled.mechanisms=PLAIN,${SCRAM_MECHANISMS.join(',')}
${prefix}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${SASL_USERNAME}="${sasl.password}";
${SCRAM_MECHANISMS.map((mechanism) => `${prefix}.${mechanism.toLowerCase()}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`).join('\n')}
${prefix}.ssl.keystore.type=PKCS12
${prefix}.ssl.keystore.location=${sasl.keystore}
${prefix}.ssl.keystore.password=${sasl.keystorePassword}
${prefix}.ssl.key.password=${sasl.keystorePassword}
`;
}

/**
 * The listener's secrets, made once per data folder: the SASL password, and a CA and the broker's
 * certificate (EC P-256, 127.0.0.1 and localhost) in a PKCS12 keystore, by openssl.
 */
async function saslListenerOf(dataDir: string, port: number): Promise<SaslListener & { caFile: string }> {
  const dir = path.join(dataDir, 'tls');
  const secretsFile = path.join(dir, 'secrets.json');
  const caFile = path.join(dir, 'ca.pem');
  const keystore = path.join(dir, 'broker.p12');
  if (existsSync(secretsFile) && existsSync(keystore)) {
    const secrets = JSON.parse(await readFile(secretsFile, 'utf8')) as {
      password: string;
      keystorePassword: string;
    };
    return { port, keystore, caFile, ...secrets };
  }
  await mkdir(dir, { recursive: true });
  const password = randomBytes(18).toString('base64url');
  const keystorePassword = randomBytes(18).toString('base64url');
  const file = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = (args: string[]) => execFileAsync('openssl', args, { timeout: 30_000 });
  await openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    caFile,
    '-days',
    '3650',
    '-subj',
    '/CN=execution-replay Kafka CA',
  ]);
  await openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('broker.key'),
    '-out',
    file('broker.pem'),
    '-days',
    '3650',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-CA',
    caFile,
    '-CAkey',
    file('ca.key'),
  ]);
  await openssl([
    'pkcs12',
    '-export',
    '-in',
    file('broker.pem'),
    '-inkey',
    file('broker.key'),
    '-certfile',
    caFile,
    '-name',
    'broker',
    '-out',
    keystore,
    '-passout',
    `pass:${keystorePassword}`,
  ]);
  await writeFile(secretsFile, JSON.stringify({ password, keystorePassword }), { mode: 0o600 });
  return { port, password, keystore, keystorePassword, caFile };
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
  const formatted = existsSync(path.join(options.dataDir, 'log', 'meta.properties'));
  // the SCRAM user is made by the format: a folder formatted without it gets no SASL_SSL listener
  const saslReady = !formatted || existsSync(path.join(options.dataDir, 'tls', 'secrets.json'));
  if (options.saslPort !== undefined && !saslReady)
    options.log?.(
      `kafka: ${options.dataDir} was formatted without a SCRAM user: no SASL_SSL listener (delete it to get one)`,
    );
  const sasl =
    options.saslPort !== undefined && saslReady
      ? await saslListenerOf(options.dataDir, options.saslPort)
      : undefined;
  await writeFile(properties, serverProperties(options, sasl));
  await writeFile(log4j, log4jConfig());
  const classpath = `${lib}/*`;
  const jvm = [...JVM_OPTIONS, `-Dlog4j2.configurationFile=${log4j}`, '-cp', classpath];
  if (!formatted) {
    // a cluster id is 16 random bytes, base64url without padding
    const clusterId = randomBytes(16).toString('base64url');
    const scram = sasl
      ? SCRAM_MECHANISMS.flatMap((mechanism) => [
          '--add-scram',
          `${mechanism}=[name=${SASL_USERNAME},password=${sasl.password}]`,
        ])
      : [];
    await execFileAsync(
      java,
      // `--cluster-id=`: an id may start with '-', which the tool would read as an option
      [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', properties, ...scram],
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
  const saslSsl = sasl && {
    brokers: `127.0.0.1:${sasl.port}`,
    username: SASL_USERNAME,
    password: sasl.password,
    caFile: sasl.caFile,
  };
  return { brokers, ...(saslSsl ? { saslSsl } : {}), process, stop: () => process.stop(15_000) };
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
