import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { Logger } from '../adapters/logger.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { RouteTransport } from '../adapters/route-transport.ts';

/** What the replay activities are built from (worker.ts wires the real ones). */
export interface ReplayActivityDependencies {
  pool: pg.Pool;
  objectStore: ObjectStore;
  routeTransport: RouteTransport;
  logger: Logger;
  /** Aborted when the worker drains (SIGTERM): a publishing slice ends after its page, handing the replay back. */
  draining?: AbortSignal;
  /** ROUTE_NAME_TEMPLATE: a route's destination, whose pace every replay into it shares (default `{route}`). */
  routeNameTemplate?: string;
}

/** A logger for the running activity: its execution, workflow, type and attempt on every line. */
export function activityLogger(logger: Logger, executionId: string): Logger {
  const info = Context.current().info;
  return logger.child({
    execution_id: executionId,
    workflow_id: info.workflowExecution?.workflowId,
    activity: info.activityType,
    attempt: info.attempt,
  });
}
