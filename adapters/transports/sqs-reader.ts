/**
 * Reads the `sqs` transport's queues back (adapters/transports/sqs.ts writes them): for the
 * reference route consumer (scripts/route-consumer.ts), tests and operators.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from '../logger.ts';
import type { ReplayMessage } from '../route-queue.ts';
import {
  RouteMissingError,
  type BatchHandler,
  type PublishedMessage,
  type RouteMessage,
  type RouteReader,
  type RouteSubscription,
} from './port.ts';
import { BATCH_ENTRIES, createSqsClient, inParallel, QueueUrls, type SqsSettings } from './sqs.ts';

function toPublished(message: Message): PublishedMessage {
  const data = JSON.parse(message.Body!) as RouteMessage;
  const headers = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue ?? '']),
  );
  return { id: message.MessageAttributes?.message_id?.StringValue ?? data.message_id, data, headers };
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
