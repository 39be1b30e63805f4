/**
 * The checks of a replay request that need the records but not HTTP: the parent (by id or tag), the
 * target config, the route, the stage and `from_path` (docs/contract.md lists them in this order).
 * The replay endpoint calls it, and so can anything else that replays on a caller's behalf (a bulk
 * replay's children, from an activity), so that one bad request is refused alike everywhere.
 */
import type { Queryable } from '../adapters/database.ts';
import { findExecutionByIdOrTag, type ExecutionRecord } from '../adapters/executions.ts';
import {
  findRoute,
  getPipelineConfig,
  type PipelineConfig,
  type RouteDefinition,
} from '../adapters/pipeline-configs.ts';
import { normaliseFromPath } from '../adapters/storage-paths.ts';
import type { NewReplay } from '../workflows/replay-execution.contract.ts';
import type { ReplaySource } from '../domain/replay.ts';
import { DEFAULT_OUTPUT_MATCH_RULE } from '../domain/output-correspondence.ts';
import {
  instantNanoseconds,
  selectsEverything,
  type ReplaySelect,
  type ReplaySelection,
} from '../domain/replay-selection.ts';
import type { ReplayCanary } from '../domain/replay-canary.ts';

/** The replay request body (the contract's ExecutionReplayRequest), already schema-valid. */
export interface ReplayRequest {
  replay_source: ReplaySource;
  from_stage: string;
  to_route: string;
  from_path?: string | null;
  metadata?: Record<string, unknown> | null;
  tag?: string | null;
  config_id?: string | null;
  max_messages_per_second?: number | null;
  select?: ReplaySelect | null;
  /** RFC 3339 (schema-valid): the window [modified_since, modified_before) of LastModified. */
  modified_since?: string | null;
  modified_before?: string | null;
  /** Why the replay is asked for (1-500 characters). */
  reason?: string | null;
  canary?: ReplayCanary | null;
}

export type ReplayRefusalCode =
  | 'EXECUTION_NOT_FOUND'
  | 'CONFIG_NOT_FOUND'
  | 'INVALID_ROUTE'
  | 'INVALID_STAGE'
  | 'STAGE_ROUTE_MISMATCH'
  | 'INVALID_FROM_PATH'
  | 'INVALID_TIME_WINDOW'
  | 'NO_OUTPUT_STAGE'
  | 'VALIDATION_ERROR';

/**
 * A refused request: the HTTP status the endpoint answers, the contract's error_code and a detail.
 * A 422 also names the field (`loc`) and pydantic's error type, for FastAPI's HTTPValidationError.
 */
export class ReplayRequestRefused extends Error {
  override readonly name = 'ReplayRequestRefused';

  constructor(
    readonly status: 400 | 404 | 422,
    readonly errorCode: ReplayRefusalCode,
    readonly detail: string,
    readonly validation?: { loc: string[]; type: string },
  ) {
    super(detail);
  }

  /** Plain data, e.g. for an activity's failure details. */
  toJSON(): { status: number; error_code: ReplayRefusalCode; detail: string } {
    return { status: this.status, error_code: this.errorCode, detail: this.detail };
  }
}

/**
 * The new execution a valid request describes: everything but its id and workflow id, and who asked
 * (the caller's, not the request's: the service adds it).
 */
export type ReplayExecutionFields = Omit<
  NewReplay,
  'id' | 'workflow_id' | 'max_messages_per_second' | 'selection' | 'reason' | 'requested_by'
> & {
  max_messages_per_second: number | null;
  /** Absent when the request selects everything: its workflow input is then what it always was. */
  selection?: ReplaySelection;
  reason: string | null;
};

export interface PreparedReplay {
  parent: ExecutionRecord;
  execution: ReplayExecutionFields;
  /** The target config (the parent's, or the request's config_id) and its route the replay feeds. */
  config: PipelineConfig;
  route: RouteDefinition;
}

/** The reads the checks need; replayRequestLookups(db) gives them from Postgres. */
export interface ReplayRequestLookups {
  findExecution(idOrTag: string): Promise<ExecutionRecord | undefined>;
  findConfig(id: string): Promise<PipelineConfig | undefined>;
}

export function replayRequestLookups(db: Queryable): ReplayRequestLookups {
  return {
    findExecution: (idOrTag) => findExecutionByIdOrTag(db, idOrTag),
    findConfig: (id) => getPipelineConfig(db, id),
  };
}

function manualNeedsFromPath(): ReplayRequestRefused {
  return new ReplayRequestRefused(422, 'VALIDATION_ERROR', "Field required when replay_source is 'manual'", {
    loc: ['body', 'from_path'],
    type: 'missing',
  });
}

/**
 * Checks a request against the records and resolves what the new execution will be. Throws
 * ReplayRequestRefused; reads only, so a refused request leaves nothing behind.
 */
export async function prepareReplay(
  lookups: ReplayRequestLookups,
  parentRef: string,
  body: ReplayRequest,
): Promise<PreparedReplay> {
  const hasFromPath = body.from_path !== undefined && body.from_path !== null && body.from_path !== '';
  if (body.replay_source === 'manual' && !hasFromPath) throw manualNeedsFromPath();

  const parent = await lookups.findExecution(parentRef);
  if (!parent)
    throw new ReplayRequestRefused(404, 'EXECUTION_NOT_FOUND', `Execution '${parentRef}' not found`);

  const parentConfig = await lookups.findConfig(parent.config_id);
  if (!parentConfig)
    throw new ReplayRequestRefused(
      404,
      'CONFIG_NOT_FOUND',
      `Pipeline config ${parent.config_id} of the parent execution not found`,
    );
  const targetConfig = body.config_id ? await lookups.findConfig(body.config_id) : parentConfig;
  if (!targetConfig)
    throw new ReplayRequestRefused(404, 'CONFIG_NOT_FOUND', `Pipeline config ${body.config_id} not found`);

  const route = findRoute(targetConfig, body.to_route);
  if (!route) {
    const available = targetConfig.routes.map((item) => item.name).join(', ');
    throw new ReplayRequestRefused(
      400,
      'INVALID_ROUTE',
      `Route '${body.to_route}' is not a route of config ${targetConfig.id} (routes: ${available})`,
    );
  }
  if (!parentConfig.stages.includes(body.from_stage)) {
    throw new ReplayRequestRefused(
      400,
      'INVALID_STAGE',
      `Stage '${body.from_stage}' is not a stage of the parent's config (stages: ${parentConfig.stages.join(', ')})`,
    );
  }
  if (route.input_stage !== body.from_stage) {
    throw new ReplayRequestRefused(
      400,
      'STAGE_ROUTE_MISMATCH',
      `Route '${route.name}' reads stage '${route.input_stage}', not '${body.from_stage}'`,
    );
  }
  let fromPath: string | null = null;
  if (hasFromPath) {
    const normalised = normaliseFromPath(body.from_path!);
    if (!normalised.ok)
      throw new ReplayRequestRefused(400, 'INVALID_FROM_PATH', `from_path ${normalised.reason}`);
    fromPath = normalised.path || null;
    if (body.replay_source === 'manual' && fromPath === null) throw manualNeedsFromPath();
  }
  // a canary counts the outputs its messages produced: they are in the route's output stage
  if (body.canary && route.output_stage === null) {
    throw new ReplayRequestRefused(
      400,
      'NO_OUTPUT_STAGE',
      `Route '${route.name}' has no output_stage: a canary has no outputs to wait for`,
    );
  }

  const window = checkedWindow(body);
  let output: Pick<ReplaySelection, 'output_stage' | 'output_match'> = {
    output_stage: null,
    output_match: null,
  };
  if (body.select === 'missing_outputs') {
    if (!route.output_stage) {
      throw new ReplayRequestRefused(
        400,
        'NO_OUTPUT_STAGE',
        `select 'missing_outputs' needs the outputs of route '${route.name}', and it has no output_stage in config ${targetConfig.id}`,
      );
    }
    output = {
      output_stage: route.output_stage,
      output_match: route.output_match ?? DEFAULT_OUTPUT_MATCH_RULE,
    };
  }

  const selection: ReplaySelection = { select: body.select ?? 'all', ...window, ...output };
  return {
    parent,
    config: targetConfig,
    route,
    execution: {
      config_id: targetConfig.id,
      parent_execution_id: parent.id,
      root_execution_id: parent.root_execution_id ?? parent.id,
      replay_source: body.replay_source,
      from_stage: body.from_stage,
      to_route: body.to_route,
      from_path: fromPath,
      tag: body.tag ?? null,
      metadata: body.metadata ?? {},
      max_messages_per_second: body.max_messages_per_second ?? null,
      ...(selectsEverything(selection) ? {} : { selection }),
      reason: body.reason ?? null,
      ...(body.canary ? { canary: body.canary } : {}),
    },
  };
}

/**
 * The modified-time window of a request, refused when it holds no instant (since at or after
 * before). The bounds are kept as sent: they are compared to the nanosecond.
 */
export function checkedWindow(
  body: Pick<ReplayRequest, 'modified_since' | 'modified_before'>,
  field = 'modified_before',
): Pick<ReplaySelection, 'modified_since' | 'modified_before'> {
  const since = body.modified_since ?? null;
  const before = body.modified_before ?? null;
  // the schema admits only RFC 3339 instants; a caller that skipped it is refused all the same
  for (const [name, value] of [
    ['modified_since', since],
    ['modified_before', before],
  ] as const) {
    if (value !== null && instantNanoseconds(value) === undefined)
      throw new ReplayRequestRefused(422, 'VALIDATION_ERROR', 'Input should be a valid datetime', {
        loc: ['body', name],
        type: 'datetime_from_date_parsing',
      });
  }
  if (since !== null && before !== null && instantNanoseconds(since)! >= instantNanoseconds(before)!) {
    throw new ReplayRequestRefused(
      400,
      'INVALID_TIME_WINDOW',
      `${field} (${before}) must be later than modified_since (${since}): the window [modified_since, modified_before) is empty`,
    );
  }
  return { modified_since: since, modified_before: before };
}
