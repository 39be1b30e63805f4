/**
 * The jars of the brokers the dev stack and the tests run for the `kafka` and `sqs` transports:
 * Apache Kafka (KRaft mode) and ElasticMQ (an SQS-compatible server), both from Maven Central.
 * Fetched once with Maven (`mvn dependency:copy-dependencies` on a generated pom) into
 * ~/.cache/execution-replay/<name>-<version>/lib, like the Temporal CLI's build, and reused after.
 * Needs `java` (17 or later) and `mvn` on PATH (or JAVA_HOME / MAVEN_HOME).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface BrokerDistribution {
  name: 'kafka' | 'elasticmq';
  version: string;
  /** groupId:artifactId:version of the artifacts whose runtime dependencies make the classpath. */
  artifacts: string[];
  mainClass: string;
}

export const KAFKA: BrokerDistribution = {
  name: 'kafka',
  version: '4.4.0',
  artifacts: [
    'org.apache.kafka:kafka_2.13:4.4.0',
    // Kafka logs through SLF4J 1.7: without a binding its log would be empty
    'org.apache.logging.log4j:log4j-slf4j-impl:2.25.5',
  ],
  mainClass: 'kafka.Kafka',
};

export const ELASTICMQ: BrokerDistribution = {
  name: 'elasticmq',
  version: '1.6.14',
  artifacts: ['org.elasticmq:elasticmq-server_2.13:1.6.14'],
  mainClass: 'org.elasticmq.server.Main',
};

export function brokerCacheDir(
  distribution: BrokerDistribution,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const cacheRoot = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cacheRoot, 'execution-replay', `${distribution.name}-${distribution.version}`);
}

async function onPath(name: string, homeVariable: string): Promise<string | undefined> {
  const home = process.env[homeVariable];
  const dirs = [...(home ? [path.join(home, 'bin')] : []), ...(process.env.PATH ?? '').split(path.delimiter)];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

export class BrokerToolingMissing extends Error {}

/** The `java` binary the brokers run on. */
export async function findJava(): Promise<string> {
  const java = await onPath('java', 'JAVA_HOME');
  if (!java)
    throw new BrokerToolingMissing(
      'java (17 or later) is needed for the Kafka and SQS brokers: install a JDK or set JAVA_HOME',
    );
  return java;
}

function pom(distribution: BrokerDistribution): string {
  const dependencies = distribution.artifacts.map((coordinates) => {
    const [groupId, artifactId, version] = coordinates.split(':');
    return `    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>`;
  });
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>execution-replay</groupId>
  <artifactId>${distribution.name}-jars</artifactId>
  <version>${distribution.version}</version>
  <packaging>pom</packaging>
  <dependencies>
${dependencies.join('\n')}
  </dependencies>
</project>
`;
}

async function hasJars(dir: string): Promise<boolean> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.some((file) => file.endsWith('.jar'));
}

/**
 * The directory of the distribution's jars (the classpath is `<dir>/*`), fetched from Maven Central
 * on the first call on a machine and cached. Safe when several processes call it at once.
 */
export async function brokerJars(
  distribution: BrokerDistribution,
  log: (line: string) => void = () => {},
): Promise<string> {
  const cacheDir = brokerCacheDir(distribution);
  const lib = path.join(cacheDir, 'lib');
  if (await hasJars(lib)) return lib;
  const mvn = await onPath('mvn', 'MAVEN_HOME');
  if (!mvn) {
    throw new BrokerToolingMissing(
      `Maven (mvn) is needed once to fetch ${distribution.artifacts[0]} from Maven Central into ${cacheDir}`,
    );
  }
  log(
    `fetching ${distribution.name} ${distribution.version} from Maven Central with ${mvn} (once; cached in ${cacheDir}) ...`,
  );
  const staging = `${cacheDir}.fetching-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    await writeFile(path.join(staging, 'pom.xml'), pom(distribution));
    await execFileAsync(
      mvn,
      [
        '--batch-mode',
        '--quiet',
        '-f',
        path.join(staging, 'pom.xml'),
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${path.join(staging, 'lib')}`,
      ],
      { timeout: 10 * 60_000, maxBuffer: 64 * 1024 * 1024 },
    ).catch((error: Error & { stdout?: string; stderr?: string }) => {
      const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      throw new Error(
        `mvn could not fetch ${distribution.name} ${distribution.version}: ${error.message.split('\n')[0]}\n${output}`,
      );
    });
    await rm(path.join(staging, 'pom.xml'));
    await mkdir(path.dirname(cacheDir), { recursive: true });
    // rename is atomic: a concurrent caller sees no cache or a whole one; if one won the race, keep its
    await rename(staging, cacheDir).catch(async (error: NodeJS.ErrnoException) => {
      if (!(await hasJars(lib))) throw error;
    });
    return lib;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

// `npm run brokers:fetch` fetches both (CI can warm its cache with it) and prints where they are.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  try {
    for (const distribution of [KAFKA, ELASTICMQ])
      process.stdout.write(`${await brokerJars(distribution, say)}\n`);
  } catch (error) {
    say((error as Error).message);
    process.exit(1);
  }
}
