/**
 * The `sqs` transport: a queue per route (standard, or FIFO with SQS_FIFO), written with
 * @aws-sdk/client-sqs; any SQS-compatible server (ElasticMQ in development and tests) works.
 *
 * Guarantee: at least once. publish() returns once SQS accepted every message (SendMessageBatch, 10
 * messages and at most 256 KiB a call, SQS_SEND_CONCURRENCY calls in flight), and the worker
 * commits the replay cursor only after that. A page is sent again only when its transaction did not
 * commit after SQS had taken it; each message carries its id (attribute `message_id` and the body).
 * A FIFO queue takes the message id as MessageDeduplicationId, so such a resend within SQS's 5-minute
 * deduplication window is dropped by SQS itself. Every message is its own MessageGroupId (its id):
 * FIFO is used for deduplication, not ordering, so route workers take a replay's messages in parallel
 * (one group per replay would hand them out one at a time).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type Message,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
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

export interface SqsSettings {
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  template: string;
  fifo: boolean;
  createQueues: boolean;
  sendConcurrency: number;
}

export function sqsSettingsFromConfig(config: AppConfig): SqsSettings {
  return {
    endpoint: config.SQS_ENDPOINT,
    region: config.SQS_REGION,
    accessKeyId: config.SQS_ACCESS_KEY_ID,
    secretAccessKey: config.SQS_SECRET_ACCESS_KEY,
    template: config.ROUTE_NAME_TEMPLATE,
    fifo: config.SQS_FIFO,
    createQueues: config.SQS_CREATE_QUEUES,
    sendConcurrency: config.SQS_SEND_CONCURRENCY,
  };
}

/** SendMessageBatch's limits. */
const BATCH_ENTRIES = 10;
const BATCH_BYTES = 256 * 1024;
/** Attempts of the entries SQS refused in a batch answer (throttling, internal errors). */
const ENTRY_ATTEMPTS = 5;

/** The route's queue name: the template's, with `.fifo` appended for FIFO queues. */
export function queueNameOf(settings: SqsSettings, route: string): string {
  const base = routeDestination(settings.template, route);
  const name = settings.fifo && !base.endsWith('.fifo') ? `${base}.fifo` : base;
  const valid = settings.fifo ? /^[A-Za-z0-9_-]{1,75}\.fifo$/ : /^[A-Za-z0-9_-]{1,80}$/;
  if (!valid.test(name)) {
    throw new Error(
      `route '${route}' maps to SQS queue '${name}', which SQS does not accept (1-80 letters, digits, '_' or '-'` +
        `${settings.fifo ? ", ending in '.fifo'" : ''}); check the route name and ROUTE_NAME_TEMPLATE` +
        (!settings.fifo && name.endsWith('.fifo') ? ' (a .fifo queue needs SQS_FIFO=true)' : ''),
    );
  }
  return name;
}

export function createSqsClient(settings: SqsSettings, sockets: number): SQSClient {
  return new SQSClient({
    endpoint: settings.endpoint,
    region: settings.region,
    credentials:
      settings.accessKeyId && settings.secretAccessKey
        ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
        : undefined,
    // the SDK retries throttling and 5xx answers with backoff; a request it gave up on fails the page
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5000,
      requestTimeout: 30_000,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: sockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: sockets }),
    }),
  });
}

function isQueueMissing(error: unknown): boolean {
  const name = (error as { name?: string; Code?: string })?.name ?? '';
  return name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue';
}

/** A cache of queue URLs by route; a lookup that failed, or a URL a send failed on, is asked again next time. */
class QueueUrls {
  readonly #urls = new Map<string, Promise<string>>();

  constructor(
    private readonly client: SQSClient,
    private readonly settings: SqsSettings,
    private readonly logger: Logger,
  ) {}

  get(route: string, create: boolean): Promise<string> {
    let url = this.#urls.get(route);
    if (!url) {
      url = this.#resolve(route, create);
      url.catch(() => this.#urls.delete(route));
      this.#urls.set(route, url);
    }
    return url;
  }

  forget(route: string): void {
    this.#urls.delete(route);
  }

  async #resolve(route: string, create: boolean): Promise<string> {
    const name = queueNameOf(this.settings, route);
    try {
      const { QueueUrl } = await this.client.send(new GetQueueUrlCommand({ QueueName: name }));
      return QueueUrl!;
    } catch (error) {
      if (!isQueueMissing(error)) throw error;
    }
    if (!create || !this.settings.createQueues) {
      throw new RouteMissingError(
        name,
        `SQS queue '${name}' of route '${route}' does not exist` +
          (create ? ' and SQS_CREATE_QUEUES is false: create it, then replay again' : ''),
      );
    }
    // CreateQueue answers the existing queue's URL when one with the same attributes exists
    const { QueueUrl } = await this.client.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: this.settings.fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {},
      }),
    );
    this.logger.info({ queue: name, route }, 'SQS queue created');
    return QueueUrl!;
  }
}

function entryBytes(entry: SendMessageBatchRequestEntry): number {
  let bytes = Buffer.byteLength(entry.MessageBody!);
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {}))
    bytes +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType!) +
      Buffer.byteLength(value.StringValue ?? '');
  return bytes;
}

/** Splits entries into SendMessageBatch calls: at most 10 entries and 256 KiB each. */
export function batchEntries(entries: SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let batch: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (size > BATCH_BYTES) throw new Error(`message ${entry.Id} is ${size} bytes, above SQS's 256 KiB`);
    if (batch.length === BATCH_ENTRIES || (batch.length > 0 && bytes + size > BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Runs tasks with at most `limit` at once; rejects with the first failure once the started ones settle. */
async function inParallel<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const runner = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  if (failure) throw failure.error;
}

function toEntry(message: OutgoingMessage, index: number, fifo: boolean): SendMessageBatchRequestEntry {
  return {
    Id: String(index),
    MessageBody: JSON.stringify(message.body),
    MessageAttributes: {
      message_id: { DataType: 'String', StringValue: message.id },
      execution_id: { DataType: 'String', StringValue: message.body.execution_id },
    },
    ...(fifo ? { MessageGroupId: message.id, MessageDeduplicationId: message.id } : {}),
  };
}

export class SqsTransport implements RouteTransport {
  readonly kind = 'sqs' as const;
  readonly transactional = false;
  readonly #settings: SqsSettings;
  readonly #logger: Logger;
  readonly #client: SQSClient;
  readonly #urls: QueueUrls;

  constructor(settings: SqsSettings, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger.child({ transport: 'sqs' });
    this.#client = createSqsClient(settings, Math.max(settings.sendConcurrency * 2, 16));
    this.#urls = new QueueUrls(this.#client, settings, this.#logger);
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.#client.destroy();
  }

  async ensureRoute(route: string): Promise<void> {
    await this.#urls.get(route, true);
  }

  /** Sends every message (batches in parallel) and resolves once SQS accepted all of them. */
  async publish(messages: OutgoingMessage[]): Promise<void> {
    const byRoute = new Map<string, OutgoingMessage[]>();
    for (const message of messages)
      byRoute.set(message.route, [...(byRoute.get(message.route) ?? []), message]);
    for (const [route, routeMessages] of byRoute) {
      // a queue deleted since: the failed send forgot its URL, and this makes it again where allowed
      const url = await this.#urls.get(route, true);
      const batches = batchEntries(
        routeMessages.map((message, index) => toEntry(message, index, this.#settings.fifo)),
      );
      try {
        await inParallel(batches, this.#settings.sendConcurrency, (batch) => this.#sendBatch(url, batch));
      } catch (error) {
        this.#urls.forget(route);
        throw error;
      }
    }
  }

  async #sendBatch(url: string, entries: SendMessageBatchRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 1; ; attempt++) {
      const answer = await this.#client.send(
        new SendMessageBatchCommand({ QueueUrl: url, Entries: pending }),
      );
      const failed = answer.Failed ?? [];
      if (failed.length === 0) return;
      const refused = failed.find((entry) => entry.SenderFault);
      if (refused || attempt >= ENTRY_ATTEMPTS) {
        const sample = refused ?? failed[0]!;
        throw new Error(
          `SQS refused ${failed.length} of ${pending.length} messages: ${sample.Code} ${sample.Message ?? ''}`,
        );
      }
      const ids = new Set(failed.map((entry) => entry.Id));
      pending = pending.filter((entry) => ids.has(entry.Id));
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

function toPublished(message: Message): PublishedMessage {
  const data = JSON.parse(message.Body!) as RouteMessage;
  return { id: message.MessageAttributes?.message_id?.StringValue ?? data.message_id, data };
}

export class SqsRouteReader implements RouteReader {
  readonly kind = 'sqs' as const;
  readonly #logger: Logger;
  readonly #client: SQSClient;
  readonly #urls: QueueUrls;
  /** What messagesOf received (and deleted), by route. */
  readonly #received = new Map<string, PublishedMessage[]>();

  constructor(settings: SqsSettings, logger: Logger) {
    this.#logger = logger.child({ transport: 'sqs' });
    this.#client = createSqsClient(settings, 32);
    this.#urls = new QueueUrls(this.#client, settings, this.#logger);
  }

  #receive(url: string, max: number, waitSeconds: number) {
    return this.#client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(max, BATCH_ENTRIES),
        WaitTimeSeconds: waitSeconds,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
  }

  async #delete(url: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle!,
        })),
      }),
    );
  }

  /** Receives and deletes everything visible on the queue, then answers from all it received so far. */
  async messagesOf<T extends RouteMessage = ReplayMessage>(
    route: string,
    executionId: string,
  ): Promise<PublishedMessage<T>[]> {
    let url: string;
    try {
      url = await this.#urls.get(route, false);
    } catch (error) {
      if (error instanceof RouteMissingError) return [];
      throw error;
    }
    const received = this.#received.get(route) ?? [];
    this.#received.set(route, received);
    await inParallel([0, 1, 2, 3], 4, async () => {
      for (let empty = 0; empty < 2;) {
        const { Messages = [] } = await this.#receive(url, BATCH_ENTRIES, 0);
        if (Messages.length === 0) {
          empty += 1;
          continue;
        }
        empty = 0;
        received.push(...Messages.map(toPublished));
        await this.#delete(url, Messages);
      }
    });
    return received.filter((message) => message.data.execution_id === executionId) as PublishedMessage<T>[];
  }

  /**
   * Long-polls the queue; a message is deleted once the handler finished it. One it did not finish
   * becomes visible again a second later and is received again.
   */
  async consume(
    route: string,
    options: { batchSize: number },
    handle: BatchHandler,
  ): Promise<RouteSubscription> {
    const url = await this.#urls.get(route, false);
    let stopping = false;
    let inHand = 0;
    const loop = (async () => {
      while (!stopping) {
        const calls = Math.ceil(options.batchSize / BATCH_ENTRIES);
        const answers = await Promise.all(
          Array.from({ length: calls }, (_, index) =>
            this.#receive(url, Math.min(BATCH_ENTRIES, options.batchSize - index * BATCH_ENTRIES), 1),
          ),
        );
        const batch = answers.flatMap((answer) => answer.Messages ?? []);
        if (batch.length === 0) continue;
        inHand = batch.length;
        try {
          const done = await handle(batch.map(toPublished));
          const finished = batch.filter((_, index) => done[index]);
          const unfinished = batch.filter((_, index) => !done[index]);
          for (let index = 0; index < finished.length; index += BATCH_ENTRIES)
            await this.#delete(url, finished.slice(index, index + BATCH_ENTRIES));
          for (let index = 0; index < unfinished.length; index += BATCH_ENTRIES) {
            await this.#client.send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: url,
                Entries: unfinished.slice(index, index + BATCH_ENTRIES).map((message, position) => ({
                  Id: String(position),
                  ReceiptHandle: message.ReceiptHandle!,
                  VisibilityTimeout: 1,
                })),
              }),
            );
          }
        } finally {
          inHand = 0;
        }
      }
    })();
    loop.catch((error: unknown) => this.#logger.error({ err: error, route }, 'SQS route consumer stopped'));
    return {
      idle: async () => {
        if (inHand > 0) return false;
        const { Attributes = {} } = await this.#client.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return (
          Number(Attributes.ApproximateNumberOfMessages ?? 0) === 0 &&
          Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) === 0
        );
      },
      stop: async () => {
        stopping = true;
        await loop.catch(() => {});
      },
    };
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}
