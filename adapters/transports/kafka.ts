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
import { randomUUID } from 'node:crypto';
import {
  Admin,
  Consumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
  type Message,
  type MessagesStream,
  type MessageToProduce,
} from '@platformatic/kafka';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { OutgoingMessage, ReplayMessage } from '../route-queue.ts';
import {
  RouteMissingError,
  routeDestination,
  type BatchHandler,
  type PublishedMessage,
  type RouteMessage,
  type RouteReader,
  type RouteSubscription,
  type RouteTransport,
} from './port.ts';

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

const connection = { connectTimeout: 5000, requestTimeout: 30_000, retries: 3, retryDelay: 500 };

type Record = MessageToProduce<string, string, string, string>;

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
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether the topic exists with a leader for every partition. */
async function topicReady(admin: Admin, topic: string): Promise<boolean> {
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

function toRecord(topic: string, message: OutgoingMessage): Record {
  const body = message.body;
  return {
    topic,
    // the object key keeps a key's messages on one partition, in order; an init message has no object
    key: 'object' in body ? body.object.key : body.execution_id,
    value: JSON.stringify(body),
    headers: { message_id: message.id, execution_id: body.execution_id },
  };
}

function recordBytes(record: Record): number {
  return Buffer.byteLength(record.value!) + Buffer.byteLength(record.key ?? '') + 128;
}

/** Splits records into sends of at most MAX_SEND_BYTES (at least one record each). */
export function chunkRecords(records: Record[], maxBytes = MAX_SEND_BYTES): Record[][] {
  const chunks: Record[][] = [];
  let chunk: Record[] = [];
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

  async #send(records: Record[]): Promise<void> {
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

/** The message as the reader hands it on: id from the header (or the body), body parsed. */
function toPublished(message: Message<string, string, string, string>): PublishedMessage {
  const data = JSON.parse(message.value) as RouteMessage;
  return { id: message.headers.get('message_id') ?? data.message_id, data };
}

interface TopicTail {
  consumer: Consumer<string, string, string, string>;
  stream: MessagesStream<string, string, string, string>;
  messages: PublishedMessage[];
  /** Next offset to read, by partition. */
  next: Map<number, bigint>;
}

export class KafkaRouteReader implements RouteReader {
  readonly kind = 'kafka' as const;
  readonly #settings: KafkaSettings;
  readonly #logger: Logger;
  readonly #tails = new Map<string, Promise<TopicTail>>();
  readonly #consumers = new Set<Consumer<string, string, string, string>>();

  constructor(settings: KafkaSettings, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger.child({ transport: 'kafka' });
  }

  #consumer(groupId: string): Consumer<string, string, string, string> {
    const consumer = new Consumer({
      clientId: `${this.#settings.clientId}-reader`,
      groupId,
      bootstrapBrokers: this.#settings.brokers,
      deserializers: stringDeserializers,
      ...connection,
    });
    this.#consumers.add(consumer);
    return consumer;
  }

  /** Reads the whole topic (a group of its own, from the earliest offset), up to its end offsets as of this call. */
  async messagesOf<T extends RouteMessage = ReplayMessage>(
    route: string,
    executionId: string,
  ): Promise<PublishedMessage<T>[]> {
    const topic = topicOf(this.#settings, route);
    const admin = new Admin({
      clientId: `${this.#settings.clientId}-reader`,
      bootstrapBrokers: this.#settings.brokers,
      ...connection,
    });
    let exists: boolean;
    try {
      exists = await topicReady(admin, topic);
    } finally {
      await admin.close();
    }
    if (!exists) return [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const tail = await this.#tailOf(topic);
      const ends = (await tail.consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
      const behind = () => ends.some((end, partition) => (tail.next.get(partition) ?? 0n) < end);
      // a tail that stops moving (its connection died with a broker restart) is read again anew
      let progress = tail.messages.length;
      let progressAt = Date.now();
      while (behind() && Date.now() - progressAt < 10_000) {
        if (Date.now() > deadline)
          throw new Error(`reading Kafka topic '${topic}' did not reach its end offsets`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (tail.messages.length !== progress) {
          progress = tail.messages.length;
          progressAt = Date.now();
        }
      }
      if (!behind())
        return tail.messages.filter(
          (message) => message.data.execution_id === executionId,
        ) as PublishedMessage<T>[];
      this.#logger.warn({ topic }, 'Kafka reader stalled; reading the topic again');
      this.#tails.delete(topic);
      await tail.stream.close().catch(() => {});
      await tail.consumer.close().catch(() => {});
      this.#consumers.delete(tail.consumer);
    }
  }

  #tailOf(topic: string): Promise<TopicTail> {
    let tail = this.#tails.get(topic);
    if (!tail) {
      tail = this.#tail(topic);
      tail.catch(() => this.#tails.delete(topic));
      this.#tails.set(topic, tail);
    }
    return tail;
  }

  async #tail(topic: string): Promise<TopicTail> {
    const consumer = this.#consumer(`${this.#settings.clientId}-reader-${randomUUID()}`);
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 200,
    });
    const tail: TopicTail = { consumer, stream, messages: [], next: new Map() };
    stream.on('data', (message: Message<string, string, string, string>) => {
      tail.messages.push(toPublished(message));
      tail.next.set(message.partition, message.offset + 1n);
    });
    stream.on('error', (error) => this.#logger.warn({ err: error, topic }, 'Kafka reader stream error'));
    return tail;
  }

  /**
   * A consumer group (default `<KAFKA_CLIENT_ID>-route-<route>`) from its committed offsets (the
   * earliest for a new group). Offsets are committed after the handler finished a batch; a message
   * it did not finish is handed to it again (after a second) before the partition moves on.
   */
  async consume(
    route: string,
    options: { batchSize: number; group?: string },
    handle: BatchHandler,
  ): Promise<RouteSubscription> {
    const topic = topicOf(this.#settings, route);
    const consumer = this.#consumer(options.group ?? `${this.#settings.clientId}-route-${route}`);
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 500,
    });
    // the client's stream fetches only while flowing: buffer here, pause while the buffer is full
    const buffer: Message<string, string, string, string>[] = [];
    let wake: (() => void) | undefined;
    stream.on('data', (message: Message<string, string, string, string>) => {
      buffer.push(message);
      if (buffer.length >= options.batchSize * 4) stream.pause();
      wake?.();
    });
    stream.on('error', (error) => this.#logger.warn({ err: error, topic }, 'Kafka consumer stream error'));
    let stopping = false;
    let inHand = 0;
    const loop = (async () => {
      while (!stopping) {
        if (buffer.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 200);
          });
          continue;
        }
        const batch = buffer.splice(0, options.batchSize);
        if (stream.isPaused() && buffer.length < options.batchSize) stream.resume();
        inHand = batch.length;
        let pending = batch;
        for (;;) {
          const done = await handle(pending.map(toPublished));
          pending = pending.filter((_, index) => !done[index]);
          if (pending.length === 0 || stopping) break;
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        if (pending.length === 0) await commitBatch(batch);
        inHand = 0;
      }
    })();
    loop.catch((error: unknown) => this.#logger.error({ err: error, topic }, 'Kafka route consumer stopped'));

    return {
      idle: async () => {
        if (inHand > 0 || buffer.length > 0) return false;
        const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
        const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
        const partitions = ends.map((_, index) => index);
        const committed =
          (await consumer.listCommittedOffsets({ topics: [{ topic, partitions }] })).get(topic) ?? [];
        return ends.every((end, partition) => {
          const position = committed[partition] ?? -1n;
          return (position >= 0n ? position : (starts[partition] ?? 0n)) >= end;
        });
      },
      stop: async () => {
        stopping = true;
        await loop.catch(() => {});
        await stream.close().catch(() => {});
        // leaving the group hands its partitions to the next consumer at once
        await consumer.close().catch(() => {});
        this.#consumers.delete(consumer);
      },
    };
  }

  async close(): Promise<void> {
    for (const tail of this.#tails.values()) await tail.then((value) => value.stream.close()).catch(() => {});
    await Promise.allSettled([...this.#consumers].map((consumer) => consumer.close()));
    this.#consumers.clear();
    this.#tails.clear();
  }
}

/** Commits, for each partition of the batch, the offset after its last message. */
async function commitBatch(batch: Message<string, string, string, string>[]): Promise<void> {
  const last = new Map<string, Message<string, string, string, string>>();
  for (const message of batch) {
    const key = `${message.topic}:${message.partition}`;
    const seen = last.get(key);
    if (!seen || seen.offset < message.offset) last.set(key, message);
  }
  await Promise.all([...last.values()].map((message) => message.commit()));
}
