import { publishTaskQueueOf, type AppConfig } from '../adapters/config.ts';
import type { ApiAuthOptions } from './auth.ts';
import type { ServiceDependencies, ServiceSettings } from '../services/dependencies.ts';
import type { ReplaySettings } from '../workflows/replay-execution.contract.ts';
import type { ApiLimits } from './limits.ts';

/** The api's settings are the services' (services/dependencies.ts). */
export type ApiSettings = ServiceSettings;
export type { PreviewSettings } from '../services/dependencies.ts';

/** Everything the api needs, built by createApiServer (api/server.ts) or by a test. */
export interface ApiDependencies extends ServiceDependencies {
  /**
   * Bearer keys (api/auth.ts). createApiServer always passes them (from API_KEYS, API_KEYS_FILE,
   * AUTH_REQUIRED). Left out, the app asks for no key: for apps built in-process by tests only.
   */
  auth?: ApiAuthOptions;
  /** Body size and rate limits (api/limits.ts); DEFAULT_LIMITS for what is left out. */
  limits?: Partial<ApiLimits>;
  /** Set once the process drains (SIGTERM): /readyz answers 503 and connections close after their answer. */
  drain?: DrainState;
}

export interface DrainState {
  draining: boolean;
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
