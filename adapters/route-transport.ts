/**
 * The route transport: where a replay's (and a normal execution's init) messages go. One port, three
 * adapters (adapters/transports/), chosen by ROUTE_TRANSPORT:
 *
 * - `pgboss`: a pg-boss queue per route in the service's own Postgres. The messages are inserted in
 *   the transaction that advances the replay cursor: published exactly once.
 * - `kafka`: a topic per route. The messages are produced (idempotent producer, acks=all) and
 *   acknowledged before that transaction commits: at least once, every duplicate carrying the id of
 *   the message it repeats.
 * - `sqs`: a queue per route (standard or FIFO), likewise at least once; a FIFO queue drops a resent
 *   message within its 5-minute deduplication window (the message id is the deduplication id).
 *
 * Consumers deduplicate by message id (README, "Delivery guarantees"). Each transport's reader
 * (adapters/route-reader.ts) reads its routes back; the api and the worker only write.
 */
import type pg from 'pg';
import type { AppConfig } from './config.ts';
import type { Logger } from './logger.ts';
import { KafkaTransport, kafkaSettingsFromConfig } from './transports/kafka.ts';
import { PgBossTransport } from './transports/pgboss.ts';
import type { RouteTransport } from './transports/port.ts';
import { SqsTransport, sqsSettingsFromConfig } from './transports/sqs.ts';

export * from './transports/port.ts';

export function createRouteTransport(config: AppConfig, pool: pg.Pool, logger: Logger): RouteTransport {
  switch (config.ROUTE_TRANSPORT) {
    case 'pgboss':
      return new PgBossTransport(pool, config.PGBOSS_SCHEMA, config.ROUTE_NAME_TEMPLATE, logger);
    case 'kafka':
      return new KafkaTransport(kafkaSettingsFromConfig(config), logger);
    case 'sqs':
      return new SqsTransport(sqsSettingsFromConfig(config), logger);
  }
}
