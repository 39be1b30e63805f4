/**
 * Reads routes back, whatever their transport (ROUTE_TRANSPORT): for the reference route consumer
 * (scripts/route-consumer.ts), tests and operators. The api and the worker only write
 * (adapters/route-transport.ts) and never load a reader.
 */
import type pg from 'pg';
import type { AppConfig } from './config.ts';
import type { Logger } from './logger.ts';
import { kafkaSettingsFromConfig } from './transports/kafka.ts';
import { KafkaRouteReader } from './transports/kafka-reader.ts';
import { PgBossRouteReader } from './transports/pgboss-reader.ts';
import type { RouteReader } from './transports/port.ts';
import { sqsSettingsFromConfig } from './transports/sqs.ts';
import { SqsRouteReader } from './transports/sqs-reader.ts';

export type { RouteReader } from './transports/port.ts';

export function createRouteReader(config: AppConfig, pool: pg.Pool, logger: Logger): RouteReader {
  switch (config.ROUTE_TRANSPORT) {
    case 'pgboss':
      return new PgBossRouteReader(pool, config.PGBOSS_SCHEMA, config.ROUTE_NAME_TEMPLATE, logger);
    case 'kafka':
      return new KafkaRouteReader(kafkaSettingsFromConfig(config), logger);
    case 'sqs':
      return new SqsRouteReader(sqsSettingsFromConfig(config), logger);
  }
}
