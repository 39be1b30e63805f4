import { ErrorResponseSchema, HTTPValidationErrorSchema } from './schemas.ts';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

/** OpenAPI response entries shared by the routes. */
export const errorResponses = {
  400: {
    description: 'Invalid route, stage or from_path, or a canary whose route has no output_stage',
    content: json(ErrorResponseSchema),
  },
  404: { description: 'Resource not found', content: json(ErrorResponseSchema) },
  409: {
    description: 'Conflict (tag taken, Idempotency-Key reused with another body)',
    content: json(ErrorResponseSchema),
  },
  422: { description: 'Validation Error', content: json(HTTPValidationErrorSchema) },
  503: {
    description:
      'Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again',
    content: json(ErrorResponseSchema),
  },
} as const;

/** Every operation's id, as FastAPI derives them (function name, path, method); links name them. */
export const operationIds = {
  createConfig: 'create_config_api_v1_configs_post',
  getConfig: 'get_config_api_v1_configs__config_id__get',
  createExecution: 'create_execution_api_v1_executions_post',
  listExecutions: 'list_executions_api_v1_executions_get',
  getExecution: 'get_execution_api_v1_executions__execution_id__get',
  listExecutionReplays: 'list_execution_replays_api_v1_executions__execution_id__replays_get',
  replayExecution: 'replay_execution_api_v1_executions__execution_id__replay_post',
  resumeExecution: 'resume_execution_api_v1_executions__execution_id__resume_post',
  cancelExecution: 'cancel_execution_api_v1_executions__execution_id__cancel_post',
  pauseExecution: 'pause_execution_api_v1_executions__execution_id__pause_post',
  changeExecution: 'change_execution_api_v1_executions__execution_id__patch',
  createBulkReplay: 'create_bulk_replay_api_v1_bulk_replays_post',
  getBulkReplay: 'get_bulk_replay_api_v1_bulk_replays__bulk_replay_id__get',
  listBulkReplayItems: 'list_bulk_replay_items_api_v1_bulk_replays__bulk_replay_id__items_get',
  cancelBulkReplay: 'cancel_bulk_replay_api_v1_bulk_replays__bulk_replay_id__cancel_post',
  pauseBulkReplay: 'pause_bulk_replay_api_v1_bulk_replays__bulk_replay_id__pause_post',
  resumeBulkReplay: 'resume_bulk_replay_api_v1_bulk_replays__bulk_replay_id__resume_post',
  previewReplay: 'preview_replay_api_v1_executions__execution_id__replay_preview_post',
  getReplayPreview: 'get_replay_preview_api_v1_replay_previews__preview_id__get',
  healthz: 'healthz_healthz_get',
  readyz: 'readyz_readyz_get',
} as const;

const executionId = { execution_id: '$response.body#/id' };
const ownConfig = { config_id: '$response.body#/config_id' };

/** Links from a response that carries an execution (`id`), any kind: what every execution allows. */
const anyExecutionLinks = {
  GetExecution: { operationId: operationIds.getExecution, parameters: executionId },
  // through the execution's own config: a config_id the client made up would only find nothing
  ReplayExecution: {
    operationId: operationIds.replayExecution,
    parameters: executionId,
    requestBody: ownConfig,
  },
  PreviewReplay: { operationId: operationIds.previewReplay, parameters: executionId, requestBody: ownConfig },
  CancelExecution: { operationId: operationIds.cancelExecution, parameters: executionId },
  ListReplays: { operationId: operationIds.listExecutionReplays, parameters: executionId },
  // another normal execution of the same config
  CreateExecution: { operationId: operationIds.createExecution, requestBody: ownConfig },
  ListChildExecutions: {
    operationId: operationIds.listExecutions,
    parameters: { parent_execution_id: '$response.body#/id' },
  },
};

/**
 * Links from a normal execution (`POST /api/v1/executions`) to the operations that take its id, so
 * that clients and stateful fuzzers can follow it: read, replay (or preview a replay of) and cancel
 * it. Pause, resume and a rate change are for replays only (409 on a normal execution): they are
 * linked from a replay's responses (`replayLinks`).
 */
export const executionLinks = anyExecutionLinks;

/** Links from a response that carries a replay to the operations that take its id, its controls too. */
export const replayLinks = {
  ...anyExecutionLinks,
  PauseExecution: { operationId: operationIds.pauseExecution, parameters: executionId },
  ResumeExecution: { operationId: operationIds.resumeExecution, parameters: executionId },
  ChangeExecution: { operationId: operationIds.changeExecution, parameters: executionId },
};

/** Links from a created config to the operations that take its id. */
export const configLinks = {
  GetConfig: { operationId: operationIds.getConfig, parameters: { config_id: '$response.body#/id' } },
  CreateExecution: {
    operationId: operationIds.createExecution,
    requestBody: { config_id: '$response.body#/id' },
  },
};

const bulkReplayId = { bulk_replay_id: '$response.body#/id' };

/** Links from a response that carries a bulk replay to the operations that take its id. */
export const bulkReplayLinks = {
  GetBulkReplay: { operationId: operationIds.getBulkReplay, parameters: bulkReplayId },
  ListBulkReplayItems: { operationId: operationIds.listBulkReplayItems, parameters: bulkReplayId },
  CancelBulkReplay: { operationId: operationIds.cancelBulkReplay, parameters: bulkReplayId },
  PauseBulkReplay: { operationId: operationIds.pauseBulkReplay, parameters: bulkReplayId },
  ResumeBulkReplay: { operationId: operationIds.resumeBulkReplay, parameters: bulkReplayId },
};

/** From a preview that continues as a job to its status. */
export const previewLinks = {
  GetReplayPreview: {
    operationId: operationIds.getReplayPreview,
    parameters: { preview_id: '$response.body#/id' },
  },
};
