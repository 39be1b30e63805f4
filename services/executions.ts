/**
 * Normal executions (a config's routes started and the init message sent to its entry route) and
 * the reading of any execution, for the api.
 */
import { isUniqueViolation, withTransaction, type Queryable } from '../adapters/database.ts';
import {
  findExecutionByIdOrTag,
  insertExecutionIfAbsent,
  listExecutions,
  markRoutesStarted,
  type ExecutionFilter,
  type ExecutionRecord,
} from '../adapters/executions.ts';
import { newExecutionId, replayMessageId } from '../adapters/ids.ts';
import { getPipelineConfig } from '../adapters/pipeline-configs.ts';
import type { OutgoingMessage } from '../adapters/route-queue.ts';
import { storable } from '../domain/stored-text.ts';
import type { ServiceDependencies } from './dependencies.ts';
import { withTimeout } from './dependency-timeout.ts';
import { DependencyUnavailable, ServiceError, tagTakenError } from './errors.ts';

export interface NewExecutionRequest {
  config_id: string;
  tag?: string | null;
  metadata?: Record<string, unknown> | null;
}

export function createExecutionService(
  deps: Pick<ServiceDependencies, 'pool' | 'routeTransport' | 'settings'>,
) {
  const { pool, routeTransport, settings } = deps;

  return {
    /**
     * Creates the record, starts every route of the config and sends the init message. pg-boss: the
     * message commits with the record. A broker: it is sent once the record committed (a send cannot
     * be rolled back), under its deterministic id, so that a resend is a duplicate consumers know.
     */
    async create(body: NewExecutionRequest): Promise<ExecutionRecord> {
      const config = await getPipelineConfig(pool, body.config_id);
      if (!config)
        throw new ServiceError(
          'not-found',
          'CONFIG_NOT_FOUND',
          `Pipeline config ${body.config_id} not found`,
        );
      const routes = config.routes.map((route) => route.name);
      const transport = `the route transport (${routeTransport.kind})`;
      const timeoutMs = settings.dependencyTimeoutMs;
      for (const route of routes) await withTimeout(transport, timeoutMs, routeTransport.ensureRoute(route));
      const id = newExecutionId();
      const metadata = body.metadata ?? {};
      const messageId = replayMessageId(id, config.entry_route, '');
      const init: OutgoingMessage = {
        id: messageId,
        route: config.entry_route,
        body: {
          message_id: messageId,
          execution_id: id,
          config_id: config.id,
          route: config.entry_route,
          init: true,
          metadata,
        },
      };
      const publish = (db: Queryable) =>
        withTimeout(transport, timeoutMs, routeTransport.publish([init], db));
      let record: ExecutionRecord;
      try {
        record = await withTransaction(pool, async (client) => {
          const created = await insertExecutionIfAbsent(client, {
            id,
            config_id: config.id,
            parent_execution_id: null,
            root_execution_id: id,
            replay_source: null,
            from_stage: null,
            to_route: null,
            from_path: null,
            tag: body.tag ?? null,
            metadata,
            workflow_id: null,
          });
          await markRoutesStarted(client, id, routes);
          if (routeTransport.transactional) await publish(client);
          return created;
        });
      } catch (error) {
        if (isUniqueViolation(error, 'executions_tag_key')) throw tagTakenError(body.tag);
        throw error;
      }
      if (!routeTransport.transactional) {
        try {
          await publish(pool);
        } catch (error) {
          throw new DependencyUnavailable(
            `Execution ${id} was created, but the route transport did not confirm its init message in time`,
            error,
          );
        }
      }
      return record;
    },

    async find(ref: string): Promise<ExecutionRecord> {
      const record = await findExecutionByIdOrTag(pool, ref);
      if (!record) throw new ServiceError('not-found', 'EXECUTION_NOT_FOUND', 'Execution not found');
      return record;
    },

    /** A page of executions, newest first; `next_cursor` is the last one's id when there are more. */
    async list(
      filter: Omit<ExecutionFilter, 'limit' | 'before_id'>,
      page: { limit: number; cursor?: string },
    ) {
      // no tag holds text Postgres cannot store, and Postgres would refuse to compare it
      if (filter.tag !== undefined && !storable(filter.tag)) return { items: [], next_cursor: null };
      const records = await listExecutions(pool, {
        ...filter,
        before_id: page.cursor,
        limit: page.limit + 1,
      });
      const items = records.slice(0, page.limit);
      return { items, next_cursor: records.length > page.limit ? items.at(-1)!.id : null };
    },
  };
}
