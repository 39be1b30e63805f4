/**
 * The route transport's port: what every transport (adapters/transports/) implements, and what the
 * replay, the api, the route consumer and the tests use. adapters/route-transport.ts picks one.
 */
import type { Queryable } from '../database.ts';
import type { InitMessage, OutgoingMessage, ReplayMessage } from '../route-queue.ts';

export type RouteTransportKind = 'pgboss' | 'kafka' | 'sqs';

export interface RouteTransport {
  readonly kind: RouteTransportKind;
  /**
   * Whether publish() joins the caller's transaction (pg-boss): its messages commit or roll back with
   * it. A broker's send cannot be rolled back, so a caller publishes to it only what has committed.
   */
  readonly transactional: boolean;
  /** Makes sure the route's queue/topic exists (idempotent; creates it where allowed, else throws an error naming it). */
  ensureRoute(route: string): Promise<void>;
  /**
   * Publishes messages. `db` is the open transaction that advances the replay cursor: pg-boss inserts
   * into it (exactly-once); a broker sends (and awaits acks) before that transaction commits
   * (at-least-once, duplicates identifiable by id).
   */
  publish(messages: OutgoingMessage[], db: Queryable): Promise<void>;
  start(): Promise<void>;
  /** For /readyz: the broker answers (a transport in the service's own Postgres has none). */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

/** The body of a message on any transport. */
export type RouteMessage = ReplayMessage | InitMessage;

/** A message read back from a route: its id and body (and for pg-boss the job's state). */
export interface PublishedMessage<T extends RouteMessage = RouteMessage> {
  id: string;
  data: T;
  /** pg-boss only: the job's state (`created`, `active`, `completed`, ...). */
  state?: string;
  /** Kafka's headers or SQS's message attributes (domain/replay-message.ts); pg-boss has none. */
  headers?: Record<string, string>;
}

/** What a consumer's handler answers for each message of a batch: true once it is done (acknowledged). */
export type BatchHandler = (batch: PublishedMessage[]) => Promise<boolean[]>;

export interface RouteSubscription {
  /** True when nothing waits on the route for this consumer and nothing is in hand. */
  idle(): Promise<boolean>;
  /** Stops taking messages, lets the batch in hand finish and acknowledges it. */
  stop(): Promise<void>;
}

/**
 * Reads a route back, for the reference route consumer, tests and operators. Each adapter has one
 * beside its transport (the transports only publish).
 */
export interface RouteReader {
  readonly kind: RouteTransportKind;
  /**
   * Every delivery of the messages one execution published to a route (a duplicate appears as often
   * as it was delivered). pg-boss and Kafka read without consuming; SQS receives and deletes, and
   * this reader keeps what it received so a later call still returns it. Typed as replay messages by
   * default: an entry route also holds a normal execution's init message.
   */
  messagesOf<T extends RouteMessage = ReplayMessage>(
    route: string,
    executionId: string,
  ): Promise<PublishedMessage<T>[]>;
  /** Consumes the route in batches of up to batchSize; a message the handler did not finish is delivered again. */
  consume(
    route: string,
    options: { batchSize: number; group?: string },
    handle: BatchHandler,
  ): Promise<RouteSubscription>;
  close(): Promise<void>;
}

/** A route's queue/topic name from ROUTE_NAME_TEMPLATE (`{route}` replaced by the route's name). */
export function routeDestination(template: string, route: string): string {
  return template.replaceAll('{route}', route);
}

/** Raised when a route's queue or topic is missing and the deployment does not let the service create it. */
export class RouteMissingError extends Error {
  constructor(
    readonly destination: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'RouteMissingError';
  }
}
