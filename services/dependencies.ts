/**
 * What the services need: the clients of the dependencies and the settings of what they start. The
 * api builds them (api/server.ts); a test may build its own.
 */
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from '../adapters/logger.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { RouteTransport } from '../adapters/route-transport.ts';
import type { BulkReplaySettings } from '../workflows/bulk-replay.contract.ts';
import type { ReplaySettings } from '../workflows/replay-execution.contract.ts';
import type { StartAdmission } from './start-admission.ts';

/** The replay settings the api passes to each workflow it starts, and its bound on dependency calls. */
export interface ServiceSettings {
  /** Task queue of the replay workflows. */
  taskQueue: string;
  /** How every replay this api starts runs (page size, timeouts, publish task queue). */
  replay: ReplaySettings;
  /** How every bulk replay runs its children. */
  bulk: BulkReplaySettings;
  /** Bound on each call to Temporal, Postgres or S3 while serving a request. */
  dependencyTimeoutMs: number;
  /** Workflow starts waited on at once (services/start-admission.ts). */
  maxStartsInFlight: number;
  /** Replay previews (services/replay-preview-service.ts). */
  preview: PreviewSettings;
}

export interface PreviewSettings {
  /** Keys listed within the request (and at most half the dependency timeout) before a preview job takes over. */
  inlineMaxKeys: number;
  /** Messages/s a replay publishes when no limit slows it down: the estimate's rate then. */
  publishRate: number;
}

export interface ServiceDependencies {
  pool: pg.Pool;
  temporal: Client;
  objectStore: ObjectStore;
  /** Where POST /api/v1/executions sends a normal execution's init message (ROUTE_TRANSPORT). */
  routeTransport: RouteTransport;
  logger: Logger;
  settings: ServiceSettings;
  /** Shared by every start of this app; createApp makes one from the settings when left out. */
  admission?: StartAdmission;
}
