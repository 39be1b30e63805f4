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
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import {
  Admin,
  Producer,
  stringSerializers,
  type MessageToProduce,
  type SASLOptions,
} from '@platformatic/kafka';
import { ConfigError, type AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { messageHeaders } from '../../domain/replay-message.ts';
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
  /** SASL (KAFKA_SASL_*); undefined: none. */
  sasl?: SASLOptions;
  /** TLS (KAFKA_TLS, KAFKA_TLS_*_FILE); undefined: plaintext. */
  tls?: TlsOptions;
}

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/** Reads a PEM file of a KAFKA_TLS_*_FILE setting; an unreadable one stops the start, naming it. */
function pemOf(setting: string, file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`configuration error: ${setting} cannot be read (${code})`);
  }
}

/** TLS options: on with KAFKA_TLS=true, or unset and a KAFKA_TLS_* file set. */
export function kafkaTlsFromConfig(config: AppConfig): TlsOptions | undefined {
  const files = config.KAFKA_TLS_CA_FILE ?? config.KAFKA_TLS_CERT_FILE;
  if (!(config.KAFKA_TLS ?? Boolean(files))) return undefined;
  const ca = pemOf('KAFKA_TLS_CA_FILE', config.KAFKA_TLS_CA_FILE);
  const cert = pemOf('KAFKA_TLS_CERT_FILE', config.KAFKA_TLS_CERT_FILE);
  const key = pemOf('KAFKA_TLS_KEY_FILE', config.KAFKA_TLS_KEY_FILE);
  return { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
}

/** Throws a ConfigError (KAFKA_* files it cannot read). */
export function kafkaSettingsFromConfig(config: AppConfig): KafkaSettings {
  const mechanism = config.KAFKA_SASL_MECHANISM;
  return {
    sasl: mechanism
      ? {
          mechanism: SASL_MECHANISMS[mechanism],
          username: config.KAFKA_SASL_USERNAME,
          password: config.KAFKA_SASL_PASSWORD,
        }
      : undefined,
    tls: kafkaTlsFromConfig(config),
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

/** Timeouts of every client. */
export const connection = { connectTimeout: 5000, requestTimeout: 30_000, retries: 3, retryDelay: 500 };

/** Options of every client: timeouts, and SASL and TLS when configured. */
export function connectionOf(settings: KafkaSettings) {
  return {
    ...connection,
    ...(settings.sasl ? { sasl: settings.sasl } : {}),
    ...(settings.tls ? { tls: settings.tls } : {}),
  };
}

const AUTHENTICATION_ERROR = 'PLT_KFK_AUTHENTICATION';
/** Node.js's codes of a broker certificate that the configured CAs do not vouch for. */
const CERTIFICATE_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME_INVALID/;

/** The error itself or, for the client's aggregate errors, any error within or behind it. */
function causes(error: unknown, seen = new Set<unknown>()): unknown[] {
  if (!error || typeof error !== 'object' || seen.has(error)) return [];
  seen.add(error);
  const { cause, errors } = error as { cause?: unknown; errors?: unknown[] };
  return [error, ...causes(cause, seen), ...(errors ?? []).flatMap((inner) => causes(inner, seen))];
}

/**
 * A refusal that waiting will not cure, as a ConfigError naming the setting to fix: the broker refused
 * the SASL credentials, or its certificate is not signed by the configured CAs. Else undefined.
 */
export function kafkaSettingError(error: unknown, settings: KafkaSettings): ConfigError | undefined {
  const all = causes(error);
  if (all.some((inner) => (inner as { code?: string }).code === AUTHENTICATION_ERROR)) {
    const mechanism = settings.sasl?.mechanism ?? 'none';
    return new ConfigError(
      `configuration error: KAFKA_SASL_PASSWORD (or KAFKA_SASL_USERNAME) refused by the Kafka broker: SASL ${mechanism} authentication failed`,
    );
  }
  const certificate = all.find((inner) => CERTIFICATE_ERRORS.test((inner as { code?: string }).code ?? ''));
  if (certificate) {
    const { code, message } = certificate as { code: string; message: string };
    return new ConfigError(
      `configuration error: KAFKA_TLS_CA_FILE does not vouch for the Kafka broker's certificate (${code}: ${message})`,
    );
  }
  return undefined;
}

/**
 * Asks the brokers for their metadata: proves the address, TLS and the SASL credentials. Throws a
 * ConfigError for credentials or a certificate refused, the client's error for anything else.
 */
export async function pingKafka(settings: KafkaSettings, clientId: string): Promise<void> {
  const admin = new Admin({
    clientId,
    bootstrapBrokers: settings.brokers,
    ...connectionOf(settings),
    retries: 0,
  });
  try {
    await admin.metadata({ topics: [] });
  } catch (error) {
    throw kafkaSettingError(error, settings) ?? error;
  } finally {
    await admin.close().catch(() => {});
  }
}

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
    // the message's id and provenance, so a consumer can filter without parsing the body
    headers: messageHeaders({ ...body, message_id: message.id }),
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
      ...connectionOf(settings),
    });
  }

  /**
   * Proves the credentials once: a broker that refuses them (or whose certificate the CAs do not
   * vouch for) stops the start with a ConfigError naming the setting, before anything is published.
   * A broker that is away is only logged: the process starts, the connections are made on first use.
   */
  async start(): Promise<void> {
    try {
      await pingKafka(this.#settings, `${this.#settings.clientId}-admin`);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      this.#logger.warn({ err: error }, 'Kafka brokers not reachable at start; connecting on first use');
    }
  }

  /** For /readyz: the brokers answer a metadata request over this transport's connection settings. */
  ping(): Promise<void> {
    return pingKafka(this.#settings, `${this.#settings.clientId}-admin`);
  }

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
      ...connectionOf(this.#settings),
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
