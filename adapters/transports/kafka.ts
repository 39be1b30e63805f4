/**
 * The `kafka` transport: a topic per route, written with @platformatic/kafka (pure JavaScript).
 *
 * Guarantee: at least once. publish() returns once the broker acknowledged every record (idempotent
 * producer, acks=all), and the worker commits the replay cursor only after that, so nothing is lost.
 * A page is sent again only when its transaction did not commit after the broker had taken it (a
 * worker killed in between, Postgres failing the commit, a send that failed half-way): those records
 * are duplicates with the same message id (in the `message_id` header and the body). Retries inside
 * one producer session are deduplicated by the broker (idempotence).
 */
import { Admin, Producer, stringSerializers, type MessageToProduce } from '@platformatic/kafka';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { OutgoingMessage } from '../route-queue.ts';
import { RouteMissingError, routeDestination, type RouteTransport } from './port.ts';
import { sleep } from '../sleep.ts';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  template: string;
  createTopics: boolean;
  /** Of created topics; undefined: the broker's defaults. */
  partitions?: number;
  replication?: number;
}

export function kafkaSettingsFromConfig(config: AppConfig): KafkaSettings {
  return {
    brokers: config.KAFKA_BROKERS ?? [],
    clientId: config.KAFKA_CLIENT_ID,
    template: config.ROUTE_NAME_TEMPLATE,
    createTopics: config.KAFKA_CREATE_TOPICS,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replication: config.KAFKA_TOPIC_REPLICATION,
  };
}

/** Kafka's rule for topic names. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
/**
 * Bytes of records per send: the broker refuses a partition's record batch above message.max.bytes
 * (1 MiB by default), and a send may put all its records into one partition.
 */
const MAX_SEND_BYTES = 512 * 1024;
/** How long ensureRoute waits for a created topic's partitions to have leaders. */
const TOPIC_READY_TIMEOUT_MS = 30_000;

export const connection = { connectTimeout: 5000, requestTimeout: 30_000, retries: 3, retryDelay: 500 };

/** A record to produce (named so as not to shadow the global `KafkaRecord`). */
export type KafkaRecord = MessageToProduce<string, string, string, string>;

export function topicOf(settings: KafkaSettings, route: string): string {
  const topic = routeDestination(settings.template, route);
  if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    throw new Error(
      `route '${route}' maps to Kafka topic '${topic}', which Kafka does not accept (1-249 letters, digits, '.', '_' or '-'); check ROUTE_NAME_TEMPLATE`,
    );
  }
  return topic;
}

function hasApiError(error: unknown, apiId: string): boolean {
  const found = (error as { findBy?: (property: string, value: unknown) => unknown })?.findBy?.(
    'apiId',
    apiId,
  );
  return Boolean(found) || (error as { apiId?: string })?.apiId === apiId;
}

/** Resolves whether a topic exists, creating it when allowed and missing. */
async function ensureTopic(
  admin: Admin,
  settings: KafkaSettings,
  route: string,
  logger: Logger,
): Promise<void> {
  const topic = topicOf(settings, route);
  if (await topicReady(admin, topic)) return;
  if (!settings.createTopics) {
    throw new RouteMissingError(
      topic,
      `Kafka topic '${topic}' of route '${route}' does not exist and KAFKA_CREATE_TOPICS is false: create it, then replay again`,
    );
  }
  try {
    await admin.createTopics({
      topics: [topic],
      partitions: settings.partitions ?? -1,
      replicas: settings.replication ?? -1,
    });
    logger.info({ topic, route }, 'Kafka topic created');
  } catch (error) {
    if (!hasApiError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
  }
  const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
  while (!(await topicReady(admin, topic))) {
    if (Date.now() > deadline)
      throw new Error(`Kafka topic '${topic}' has no leader after ${TOPIC_READY_TIMEOUT_MS} ms`);
    await sleep(100);
  }
}

/** Whether the topic exists with a leader for every partition. */
export async function topicReady(admin: Admin, topic: string): Promise<boolean> {
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const found = metadata.topics.get(topic);
    return Boolean(
      found && found.partitionsCount > 0 && found.partitions.every((partition) => partition.leader >= 0),
    );
  } catch (error) {
    // the client reports an unknown topic as a UserError of its own
    if (/^Unknown topic /.test((error as Error).message)) return false;
    if (hasApiError(error, 'UNKNOWN_TOPIC_OR_PARTITION') || hasApiError(error, 'LEADER_NOT_AVAILABLE'))
      return false;
    throw error;
  }
}

function toRecord(topic: string, message: OutgoingMessage): KafkaRecord {
  const body = message.body;
  return {
    topic,
    // the object key keeps a key's messages on one partition, in order; an init message has no object
    key: 'object' in body ? body.object.key : body.execution_id,
    value: JSON.stringify(body),
    headers: { message_id: message.id, execution_id: body.execution_id },
  };
}

function recordBytes(record: KafkaRecord): number {
  return Buffer.byteLength(record.value!) + Buffer.byteLength(record.key ?? '') + 128;
}

/** Splits records into sends of at most MAX_SEND_BYTES (at least one record each). */
export function chunkRecords(records: KafkaRecord[], maxBytes = MAX_SEND_BYTES): KafkaRecord[][] {
  const chunks: KafkaRecord[][] = [];
  let chunk: KafkaRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordBytes(record);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

export class KafkaTransport implements RouteTransport {
  readonly kind = 'kafka' as const;
  readonly transactional = false;
  readonly #settings: KafkaSettings;
  readonly #logger: Logger;
  readonly #admin: Admin;
  readonly #ready = new Map<string, Promise<void>>();
  #producer: Producer<string, string, string, string> | undefined;
  /** The idempotent producer keeps one sequence per partition: its sends must not overlap. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(settings: KafkaSettings, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger.child({ transport: 'kafka' });
    this.#admin = new Admin({
      clientId: `${settings.clientId}-admin`,
      bootstrapBrokers: settings.brokers,
      ...connection,
    });
  }

  /** Connections are made on first use: a process starts while the broker is away. */
  async start(): Promise<void> {}

  async close(): Promise<void> {
    await this.#queue.catch(() => {});
    await Promise.allSettled([this.#producer?.close(), this.#admin.close()]);
    this.#producer = undefined;
  }

  ensureRoute(route: string): Promise<void> {
    let ready = this.#ready.get(route);
    if (!ready) {
      ready = ensureTopic(this.#admin, this.#settings, route, this.#logger);
      ready.catch(() => this.#ready.delete(route));
      this.#ready.set(route, ready);
    }
    return ready;
  }

  /**
   * Sends the records and waits for the broker's acks (all in-sync replicas) of every one. A failed
   * send forgets its topics: the next attempt makes sure of them again (recreates a deleted one).
   */
  publish(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const routes = [...new Set(messages.map((message) => message.route))];
    const records = messages.map((message) => toRecord(topicOf(this.#settings, message.route), message));
    const sending = this.#queue
      .catch(() => {})
      .then(async () => {
        for (const route of routes) await this.ensureRoute(route);
        await this.#send(records);
      })
      .catch((error: unknown) => {
        for (const route of routes) this.#ready.delete(route);
        throw error;
      });
    this.#queue = sending;
    return sending;
  }

  async #send(records: KafkaRecord[]): Promise<void> {
    const producer = (this.#producer ??= new Producer({
      clientId: this.#settings.clientId,
      bootstrapBrokers: this.#settings.brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      ...connection,
    }));
    try {
      for (const chunk of chunkRecords(records)) await producer.send({ messages: chunk });
    } catch (error) {
      // after a failed send the producer's sequence numbers may no longer match the broker's: a new
      // producer (new producer id) starts clean; what the old one had written stays written once
      this.#producer = undefined;
      void producer.close().catch(() => {});
      this.#logger.warn({ err: error }, 'Kafka send failed; the page will be sent again');
      throw error;
    }
  }
}
