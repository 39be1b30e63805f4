import type { KafkaSaslSsl } from '../../scripts/stack/kafka-broker.ts';

/** What the global setup hands every test file: where the shared real services run. */
export interface TestStackInfo {
  temporalAddress: string;
  temporalCli: string;
  databaseUrl: string;
  s3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };
  /** The brokers of the `kafka` and `sqs` route transports (test/support/transports.ts). */
  kafka: { brokers: string; saslSsl?: KafkaSaslSsl };
  sqs: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  /** The versitygw binary (npm run dev's default store), for files that start one; absent without Go. */
  versitygw?: string;
  /** The replay workflows, bundled once for all files. */
  workflowBundlePath: string;
  workDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: TestStackInfo;
  }
}
