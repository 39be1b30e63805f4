/**
 * The route transports a test can run on: `pgboss`, `kafka`, `sqs` (standard queues) and `sqs-fifo`,
 * as the environment that points the service at the shared brokers of the global setup (or a
 * private stack's), with topic/queue names of the test's own (ROUTE_NAME_TEMPLATE).
 */
export const TEST_TRANSPORTS = ['pgboss', 'kafka', 'sqs', 'sqs-fifo'] as const;
export type TestTransport = (typeof TEST_TRANSPORTS)[number];

export interface BrokerEndpoints {
  kafka?: { brokers: string };
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
