import { ApplicationFailure } from '@temporalio/activity';
import { isUniqueViolation } from '../adapters/database.ts';
import { insertReplayWithRoutes, replayStateOf, setExecutionStatus } from '../adapters/executions.ts';
import { getPipelineConfig } from '../adapters/pipeline-configs.ts';
import { listPartitions, resumePartitions } from '../adapters/replay-partitions.ts';
import { RouteMissingError } from '../adapters/route-transport.ts';
import { replaysStarted } from '../adapters/metrics.ts';
import { failureTypes } from '../domain/replay.ts';
import { type NewReplay, type StartedReplay } from '../workflows/replay-execution.contract.ts';
import { tagTakenMessage } from '../services/errors.ts';
import { activityLogger, type ReplayActivityDependencies } from './dependencies.ts';

/**
 * The first step of a replay, run as a local activity inside its first workflow task: everything
 * the api's answer needs, and nothing that lists or publishes.
 */
export function createStartActivities({ pool, routeTransport, logger }: ReplayActivityDependencies) {
  async function routesOf(configId: string): Promise<string[]> {
    const config = await getPipelineConfig(pool, configId);
    if (!config) {
      throw ApplicationFailure.nonRetryable(
        `pipeline config ${configId} no longer exists`,
        failureTypes.configNotFound,
      );
    }
    const routes = config.routes.map((route) => route.name);
    // each transport remembers the routes it made sure of, and forgets one whose send failed
    for (const route of routes) {
      try {
        await routeTransport.ensureRoute(route);
      } catch (error) {
        // the deployment keeps the service from creating it: no point retrying, the request is refused
        if (error instanceof RouteMissingError)
          throw ApplicationFailure.nonRetryable(error.message, failureTypes.routeMissing);
        throw error;
      }
    }
    return routes;
  }

  return {
    /**
     * Creates the replay's record and starts its routes (their queues exist, no init message) in one
     * transaction, so a refused start writes nothing. Idempotent by the record's id. A taken tag is
     * final: the request is refused. `storage` and `manual` read the parent; `lineage` is resolved
     * by the first publishing step (it walks the store).
     */
    async startReplay(replay: NewReplay): Promise<StartedReplay> {
      const routes = await routesOf(replay.config_id);
      const source = replay.replay_source === 'lineage' ? null : replay.parent_execution_id;
      try {
        const record = await insertReplayWithRoutes(pool, replay, routes, source);
        if (record.created) replaysStarted.inc({ replay_source: replay.replay_source });
        activityLogger(logger, replay.id).info(
          {
            status: record.status,
            routes,
            parent_execution_id: record.parent_execution_id,
            root_execution_id: record.root_execution_id,
            reason: record.reason,
            requested_by: record.requested_by,
          },
          'replay started',
        );
        return replayStateOf(record);
      } catch (error) {
        if (isUniqueViolation(error, 'executions_tag_key')) {
          throw ApplicationFailure.nonRetryable(tagTakenMessage(replay.tag), failureTypes.tagTaken);
        }
        throw error;
      }
    },

    /**
     * The state a new run needs to go on with a replay whose workflow closed outside our control
     * (terminated, timed out, history lost): the cursor and counters kept in Postgres. It also marks
     * the replay running again; the name stays, being the activity type in histories in flight.
     */
    async loadReplayState(input: { executionId: string }): Promise<StartedReplay> {
      const record = await setExecutionStatus(pool, input.executionId, 'running', null);
      if (!record || !record.parent_execution_id || !record.from_stage) {
        throw ApplicationFailure.nonRetryable(
          `execution ${input.executionId} is not a replay`,
          failureTypes.executionNotFound,
        );
      }
      activityLogger(logger, record.id).info(
        { cursor: record.replay_cursor, published: record.published_count },
        'replay state loaded',
      );
      // a partitioned replay goes on with its partitions, every one of them
      await resumePartitions(pool, record.id);
      return { ...replayStateOf(record), partitions: (await listPartitions(pool, record.id)).length };
    },
  };
}
