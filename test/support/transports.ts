/**
 * The route transports a test can run on: `pgboss`, `kafka`, `kafka-sasl` (Kafka over the broker's
 * SASL_SSL listener: SCRAM-SHA-512 and TLS), `sqs` (standard queues) and `sqs-fifo`,
 * as the environment that points the service at the shared brokers of the global setup (or a
 * private stack's), with topic/queue names of the test's own (ROUTE_NAME_TEMPLATE).
 */
import type { KafkaSaslSsl } from '../../scripts/stack/kafka-broker.ts';

import { DeleteQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { Admin } from '@platformatic/kafka';
import type { AppConfig } from '../../adapters/config.ts';
import type { Logger } from '../../adapters/logger.ts';
import { connectionOf, kafkaSettingsFromConfig, topicOf } from '../../adapters/transports/kafka.ts';
import { createSqsClient, queueNameOf, sqsSettingsFromConfig } from '../../adapters/transports/sqs.ts';
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

/** Deletes a route's topic or queue, as an operator (or a retention policy) might under a running replay. */
export async function deleteDestination(
  stack: { config: AppConfig; logger: Logger },
  route: string,
): Promise<void> {
  const { config } = stack;
  if (config.ROUTE_TRANSPORT === 'kafka') {
    const settings = kafkaSettingsFromConfig(config);
    const admin = new Admin({
      clientId: 'test-admin',
      bootstrapBrokers: settings.brokers,
      ...connectionOf(settings),
    });
    try {
      await admin.deleteTopics({ topics: [topicOf(settings, route)] });
    } finally {
      await admin.close();
    }
  } else if (config.ROUTE_TRANSPORT === 'sqs') {
    const settings = sqsSettingsFromConfig(config);
    const client = createSqsClient(settings, 2);
    try {
      const { QueueUrl } = await client.send(
        new GetQueueUrlCommand({ QueueName: queueNameOf(settings, route) }),
      );
      await client.send(new DeleteQueueCommand({ QueueUrl }));
    } finally {
      client.destroy();
    }
  } else {
    throw new Error(`no destination to delete on ${config.ROUTE_TRANSPORT}`);
  }
}
