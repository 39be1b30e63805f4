/**
 * Reads the `kafka` transport's topics back (adapters/transports/kafka.ts writes them): for the
 * reference route consumer (scripts/route-consumer.ts), tests and operators.
 */
import { randomUUID } from 'node:crypto';
import {
  Admin,
  Consumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  stringDeserializers,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import type { Logger } from '../logger.ts';
import type { ReplayMessage } from '../route-queue.ts';
import { connectionOf, topicOf, topicReady, type KafkaSettings } from './kafka.ts';
import type { BatchHandler, PublishedMessage, RouteMessage, RouteReader, RouteSubscription } from './port.ts';
import { sleep } from '../sleep.ts';

/** The message as the reader hands it on: id from the header (or the body), body parsed. */
function toPublished(message: Message<string, string, string, string>): PublishedMessage {
  const data = JSON.parse(message.value) as RouteMessage;
  const headers = Object.fromEntries(message.headers);
  return { id: message.headers.get('message_id') ?? data.message_id, data, headers };
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
      ...connectionOf(this.#settings),
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
      ...connectionOf(this.#settings),
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
        await sleep(50);
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
          await sleep(1000);
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
