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
  CreateQueueCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  SendMessageBatchCommand,
  SQSClient,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { messageHeaders } from '../../domain/replay-message.ts';
import type { OutgoingMessage } from '../route-queue.ts';
import { RouteMissingError, routeDestination, type RouteTransport } from './port.ts';
import { sleep } from '../sleep.ts';

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
export const BATCH_ENTRIES = 10;
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
export class QueueUrls {
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
export async function inParallel<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
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

/** Characters SQS refuses in a message attribute's value (as in a body): control characters, U+FFFE, U+FFFF, lone surrogates. */
const SQS_UNSENDABLE = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * A message's id and provenance as SQS message attributes (at most six of SQS's ten; the reason is
 * at most 500 characters, well within the 256 KiB a message may have). A character SQS refuses is
 * sent as U+FFFD in the attribute; the body keeps the text as it is.
 */
export function sqsMessageAttributes(
  headers: Record<string, string>,
): NonNullable<SendMessageBatchRequestEntry['MessageAttributes']> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      { DataType: 'String', StringValue: value.replace(SQS_UNSENDABLE, '\uFFFD') },
    ]),
  );
}

function toEntry(message: OutgoingMessage, index: number, fifo: boolean): SendMessageBatchRequestEntry {
  return {
    Id: String(index),
    MessageBody: JSON.stringify(message.body),
    MessageAttributes: sqsMessageAttributes(messageHeaders({ ...message.body, message_id: message.id })),
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

  /** For /readyz: SQS answers a listing of at most one queue with these credentials. */
  async ping(): Promise<void> {
    await this.#client.send(new ListQueuesCommand({ MaxResults: 1 }));
  }

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
      await sleep(100 * 2 ** attempt);
    }
  }
}
