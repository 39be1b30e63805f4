/** Pure logic of the route transports: names, send chunks, SQS batches, and their configuration. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../adapters/config.ts';
import { routeDestination } from '../../adapters/route-transport.ts';
import { chunkRecords, kafkaSettingsFromConfig, topicOf } from '../../adapters/transports/kafka.ts';
import { batchEntries, queueNameOf, sqsSettingsFromConfig } from '../../adapters/transports/sqs.ts';

const minimal = { DATABASE_URL: 'postgres://u:p@localhost:5432/db', S3_BUCKET: 'outputs' };

describe('route transport configuration', () => {
  it('defaults to pg-boss with the route name as the queue name', () => {
    const config = parseConfig(minimal);
    expect(config.ROUTE_TRANSPORT).toBe('pgboss');
    expect(config.ROUTE_NAME_TEMPLATE).toBe('{route}');
    expect(config.KAFKA_CREATE_TOPICS).toBe(true);
    expect(config.SQS_FIFO).toBe(false);
  });

  it('reads the Kafka brokers as a list', () => {
    const config = parseConfig({ ...minimal, ROUTE_TRANSPORT: 'kafka', KAFKA_BROKERS: 'a:9092, [::1]:9093' });
    expect(config.KAFKA_BROKERS).toEqual(['a:9092', '[::1]:9093']);
  });

  it.each([
    [{ ROUTE_TRANSPORT: 'rabbitmq' }, 'ROUTE_TRANSPORT'],
    [
      { ROUTE_TRANSPORT: 'kafka' },
      'configuration error: KAFKA_BROKERS is required when ROUTE_TRANSPORT is kafka',
    ],
    [{ ROUTE_TRANSPORT: 'kafka', KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS must be host:port entries'],
    [{ ROUTE_NAME_TEMPLATE: 'replay-topic' }, 'ROUTE_NAME_TEMPLATE must contain {route}'],
    [{ KAFKA_TOPIC_PARTITIONS: '0' }, 'KAFKA_TOPIC_PARTITIONS'],
    [{ SQS_ENDPOINT: 'not a url' }, 'SQS_ENDPOINT'],
    [{ SQS_FIFO: 'yes' }, 'SQS_FIFO'],
    [{ SQS_SEND_CONCURRENCY: '1000' }, 'SQS_SEND_CONCURRENCY'],
    [{ SQS_ACCESS_KEY_ID: 'id' }, 'configuration error: SQS_SECRET_ACCESS_KEY is required with the other'],
    [
      { SQS_SECRET_ACCESS_KEY: 'secret' },
      'configuration error: SQS_ACCESS_KEY_ID is required with the other',
    ],
    [
      { KAFKA_SASL_MECHANISM: 'gssapi' },
      'KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512',
    ],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'p' }, 'KAFKA_SASL_USERNAME is required'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }, 'KAFKA_SASL_PASSWORD is required'],
    [{ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, 'KAFKA_SASL_MECHANISM is required'],
    [{ KAFKA_TLS_CERT_FILE: '/c.pem' }, 'KAFKA_TLS_KEY_FILE is required'],
    [{ KAFKA_TLS_KEY_FILE: '/k.pem' }, 'KAFKA_TLS_CERT_FILE is required'],
    [
      { KAFKA_TLS: 'false', KAFKA_TLS_CA_FILE: '/ca.pem' },
      'KAFKA_TLS is false, yet KAFKA_TLS_CA_FILE is set',
    ],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => parseConfig({ ...minimal, ...env })).toThrow(ConfigError);
    expect(() => parseConfig({ ...minimal, ...env })).toThrow(message);
  });

  it('builds SASL and TLS options from the KAFKA_SASL_* and KAFKA_TLS_* settings', () => {
    const kafka = { ...minimal, ROUTE_TRANSPORT: 'kafka', KAFKA_BROKERS: 'k:9093' };
    const plain = kafkaSettingsFromConfig(parseConfig(kafka));
    expect([plain.sasl, plain.tls]).toEqual([undefined, undefined]);
    const scram = kafkaSettingsFromConfig(
      parseConfig({
        ...kafka,
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
        KAFKA_TLS: 'true',
      }),
    );
    expect(scram.sasl).toEqual({ mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' });
    // TLS on Node.js's own CAs
    expect(scram.tls).toEqual({});
    expect(() =>
      kafkaSettingsFromConfig(parseConfig({ ...kafka, KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem' })),
    ).toThrow('configuration error: KAFKA_TLS_CA_FILE cannot be read (ENOENT)');
  });
});

describe('names of topics and queues', () => {
  it('replaces {route} in the template', () => {
    expect(routeDestination('{route}', 'embedding_generator')).toBe('embedding_generator');
    expect(routeDestination('prod.{route}.v1', 'a')).toBe('prod.a.v1');
  });

  it('takes Kafka topic names Kafka accepts and names the route of one it does not', () => {
    const settings = kafkaSettingsFromConfig(
      parseConfig({
        ...minimal,
        ROUTE_TRANSPORT: 'kafka',
        KAFKA_BROKERS: 'k:9092',
        ROUTE_NAME_TEMPLATE: 'x/{route}',
      }),
    );
    expect(() => topicOf(settings, 'embed')).toThrow(/route 'embed' maps to Kafka topic 'x\/embed'/);
    expect(topicOf({ ...settings, template: 'replay.{route}' }, 'embed')).toBe('replay.embed');
  });

  it('appends .fifo for FIFO queues and refuses names SQS does not accept', () => {
    const settings = sqsSettingsFromConfig(parseConfig({ ...minimal, ROUTE_TRANSPORT: 'sqs' }));
    expect(queueNameOf(settings, 'embed_v2')).toBe('embed_v2');
    expect(queueNameOf({ ...settings, fifo: true }, 'embed_v2')).toBe('embed_v2.fifo');
    expect(queueNameOf({ ...settings, fifo: true, template: '{route}.fifo' }, 'embed')).toBe('embed.fifo');
    expect(() => queueNameOf(settings, 'embed.v2')).toThrow(/route 'embed.v2' maps to SQS queue 'embed.v2'/);
    expect(() => queueNameOf(settings, 'a'.repeat(81))).toThrow(/SQS does not accept/);
    expect(() => queueNameOf({ ...settings, template: '{route}.fifo' }, 'embed')).toThrow(/SQS_FIFO=true/);
  });
});

describe('Kafka sends', () => {
  const record = (index: number, bytes: number) => ({
    topic: 't',
    key: `k${index}`,
    value: 'x'.repeat(bytes),
  });

  it('cuts records into sends of at most the byte budget, in order, each record once', () => {
    const records = Array.from({ length: 50 }, (_, index) => record(index, 900));
    const chunks = chunkRecords(records, 10_000);
    expect(chunks.flat()).toEqual(records);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks)
      expect(chunk.reduce((sum, item) => sum + item.value!.length + 128 + 3, 0)).toBeLessThanOrEqual(10_000);
  });

  it('sends a record larger than the budget alone', () => {
    const chunks = chunkRecords([record(0, 10), record(1, 50_000), record(2, 10)], 10_000);
    expect(chunks.map((chunk) => chunk.length)).toEqual([1, 1, 1]);
  });
});

describe('SQS batches', () => {
  const entry = (index: number, bytes: number) => ({
    Id: String(index),
    MessageBody: 'x'.repeat(bytes),
    MessageAttributes: { message_id: { DataType: 'String', StringValue: `id-${index}` } },
  });

  it('puts at most 10 entries in a batch', () => {
    const batches = batchEntries(Array.from({ length: 25 }, (_, index) => entry(index, 100)));
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
  });

  it('keeps a batch within 256 KiB', () => {
    const batches = batchEntries(Array.from({ length: 10 }, (_, index) => entry(index, 60_000)));
    expect(batches.map((batch) => batch.length)).toEqual([4, 4, 2]);
  });

  it('refuses a message above 256 KiB', () => {
    expect(() => batchEntries([entry(0, 300_000)])).toThrow(/above SQS's 256 KiB/);
  });
});
