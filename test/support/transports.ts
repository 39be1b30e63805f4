/**
 * The route transports a test can run on: `pgboss`, `kafka`, `kafka-sasl` (Kafka over the broker's
 * SASL_SSL listener: SCRAM-SHA-512 and TLS), `sqs` (standard queues) and `sqs-fifo`,
 * as the environment that points the service at the shared brokers of the global setup (or a
 * private stack's), with topic/queue names of the test's own (ROUTE_NAME_TEMPLATE).
 */
import type { KafkaSaslSsl } from '../../scripts/stack/kafka-broker.ts';

export const TEST_TRANSPORTS = ['pgboss', 'kafka', 'kafka-sasl', 'sqs', 'sqs-fifo'] as const;
export type TestTransport = (typeof TEST_TRANSPORTS)[number];

export interface BrokerEndpoints {
  kafka?: { brokers: string; saslSsl?: KafkaSaslSsl };
  sqs?: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
}

/** Config variables for `transport`; `prefix` keeps this test's topics and queues apart from others'. */
export function transportEnv(
  transport: TestTransport,
  brokers: BrokerEndpoints,
  prefix: string,
): Record<string, string> {
  if (transport === 'pgboss') return { ROUTE_TRANSPORT: 'pgboss' };
  const template = { ROUTE_NAME_TEMPLATE: `${prefix}-{route}` };
  if (transport === 'kafka-sasl') {
    const secure = brokers.kafka?.saslSsl;
    if (!secure) throw new Error('no Kafka SASL_SSL listener in this stack');
    return {
      ...template,
      ROUTE_TRANSPORT: 'kafka',
      KAFKA_BROKERS: secure.brokers,
      KAFKA_TOPIC_PARTITIONS: '3',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: secure.username,
      KAFKA_SASL_PASSWORD: secure.password,
      KAFKA_TLS_CA_FILE: secure.caFile,
    };
  }
  if (transport === 'kafka') {
    if (!brokers.kafka) throw new Error('no Kafka broker in this stack');
    // 3 partitions: a route's messages spread over several, as in production
    return {
      ...template,
      ROUTE_TRANSPORT: 'kafka',
      KAFKA_BROKERS: brokers.kafka.brokers,
      KAFKA_TOPIC_PARTITIONS: '3',
    };
  }
  if (!brokers.sqs) throw new Error('no SQS server in this stack');
  return {
    ...template,
    ROUTE_TRANSPORT: 'sqs',
    SQS_ENDPOINT: brokers.sqs.endpoint,
    SQS_REGION: brokers.sqs.region,
    SQS_ACCESS_KEY_ID: brokers.sqs.accessKeyId,
    SQS_SECRET_ACCESS_KEY: brokers.sqs.secretAccessKey,
    SQS_FIFO: transport === 'sqs-fifo' ? 'true' : 'false',
  };
}
