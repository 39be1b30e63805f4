import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { publishTaskQueueOf, type AppConfig } from '../adapters/config.ts';
import type { Logger } from '../adapters/logger.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { RouteTransport } from '../adapters/route-transport.ts';
import type { ApiAuthOptions } from './auth.ts';
import type { BulkReplaySettings } from '../workflows/bulk-replay.contract.ts';
import type { ReplaySettings } from '../workflows/replay-execution.contract.ts';
import type { ApiLimits } from './limits.ts';
import type { StartAdmission } from './start-admission.ts';

/** The replay settings the api passes to each workflow it starts, and its bound on dependency calls. */
export interface ApiSettings {
  /** Task queue of the replay workflows. */
  taskQueue: string;
  /** How every replay this api starts runs (page size, timeouts, publish task queue). */
  replay: ReplaySettings;
  /** How every bulk replay runs its children. */
  bulk: BulkReplaySettings;
  /** Bound on each call to Temporal, Postgres or S3 while serving a request. */
  dependencyTimeoutMs: number;
  /** Workflow starts waited on at once (api/start-admission.ts). */
  maxStartsInFlight: number;
  /** Replay previews (api/replay-preview-service.ts). */
  preview: PreviewSettings;
}

export interface PreviewSettings {
  /** Keys listed within the request (and at most half the dependency timeout) before a preview job takes over. */
  inlineMaxKeys: number;
  /** Messages/s a replay publishes when no limit slows it down: the estimate's rate then. */
  publishRate: number;
}

/** Everything the api needs, built by createApiServer (api/server.ts) or by a test. */
export interface ApiDependencies {
  pool: pg.Pool;
  temporal: Client;
  objectStore: ObjectStore;
  /** Where POST /api/v1/executions sends a normal execution's init message (ROUTE_TRANSPORT). */
  routeTransport: RouteTransport;
  logger: Logger;
  /**
   * Bearer keys (api/auth.ts). createApiServer always passes them (from API_KEYS, API_KEYS_FILE,
   * AUTH_REQUIRED). Left out, the app asks for no key: for apps built in-process by tests only.
   */
  auth?: ApiAuthOptions;
  /** Body size and rate limits (api/limits.ts); DEFAULT_LIMITS for what is left out. */
  limits?: Partial<ApiLimits>;
  settings: ApiSettings;
  /** Shared by every start of this app; createApp makes one from the settings when left out. */
  admission?: StartAdmission;
}

/** The api's replay settings from the configuration (overrides for tests). */
export function apiSettingsFromConfig(config: AppConfig, overrides: Partial<ApiSettings> = {}): ApiSettings {
  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    replay: replaySettingsFromConfig(config),
    bulk: {
      windowSize: config.BULK_REPLAY_WINDOW_SIZE,
      childrenPerRun: config.BULK_REPLAY_CHILDREN_PER_RUN,
      stepMaxAttempts: config.REPLAY_STEP_MAX_ATTEMPTS,
      replay: replaySettingsFromConfig(config),
    },
    dependencyTimeoutMs: config.DEPENDENCY_TIMEOUT_MS,
    maxStartsInFlight: config.API_MAX_STARTS_IN_FLIGHT,
    preview: { inlineMaxKeys: config.PREVIEW_INLINE_MAX_KEYS, publishRate: config.PREVIEW_PUBLISH_RATE },
    ...overrides,
  };
}

/** How a replay runs, from the configuration: fixed for the replay's life once its workflow starts. */
export function replaySettingsFromConfig(config: AppConfig): ReplaySettings {
  return {
    pageSize: config.REPLAY_PAGE_SIZE,
    pagesPerRun: config.REPLAY_PAGES_PER_RUN,
    sliceSeconds: config.REPLAY_SLICE_SECONDS,
    maxPartitions: config.REPLAY_MAX_PARTITIONS,
    partitionsInFlight: config.REPLAY_PARTITIONS_IN_FLIGHT,
    partitionAfterPages: config.REPLAY_PARTITION_AFTER_PAGES,
    stepMaxAttempts: config.REPLAY_STEP_MAX_ATTEMPTS,
    activityTimeoutSeconds: config.REPLAY_ACTIVITY_TIMEOUT_SECONDS,
    heartbeatTimeoutSeconds: config.REPLAY_HEARTBEAT_TIMEOUT_SECONDS,
    publishTaskQueue: publishTaskQueueOf(config),
  };
}
