/**
 * Starting a replay for one request, after its checks (services/replay-request.ts): an
 * Idempotency-Key's earlier execution, the tag, then the workflow (services/workflow-starter.ts).
 * The replay route is a shell over it: parse, call, answer.
 */
import { executionSummary, getExecution, isTagTaken, selectionOf } from '../adapters/executions.ts';
import { SELECT_EVERYTHING, type ReplaySelection } from '../domain/replay-selection.ts';
import { deleteIdempotencyKey } from '../adapters/idempotency-keys.ts';
import { failureTypes, type ExecutionSummary } from '../domain/replay.ts';
import { newExecutionId } from '../adapters/ids.ts';
import type { Logger } from '../adapters/logger.ts';
import { prepareReplay, replayRequestLookups, type ReplayRequest } from './replay-request.ts';
import { executionCreatedUpdate, REPLAY_WORKFLOW_TYPE, replayWorkflowId } from '../workflows/definitions.ts';
import { replaySearchAttributes } from '../workflows/search-attributes.ts';
import { replayUserMetadata } from '../workflows/user-metadata.ts';
import type { ServiceDependencies } from './dependencies.ts';
import { ServiceError, tagTakenError } from './errors.ts';
import { claimIdempotencyKey, findIdempotentExecution, requestHash } from './idempotency.ts';
import { startAdmission } from './start-admission.ts';
import { StartUncertain, startWithUpdate } from './workflow-starter.ts';

export interface ReplayCall {
  idempotencyKey?: string;
  /** Kept in the workflow's memo: the worker's logs name the request that created the replay. */
  correlationId: string;
  logger: Logger;
  /** The name of the request's API key; null when the api runs without authentication. */
  requestedBy: string | null;
}

/** A started replay as the api answers it: its summary, and who asked for it and why. */
export type StartedReplaySummary = ExecutionSummary & { reason: string | null; requested_by: string | null };

export type ReplayService = ReturnType<typeof createReplayService>;

/** What a started replay answers: its summary with who and why, and its selection when the request named one. */
export type StartedReplayAnswer = StartedReplaySummary & { selection?: ReplaySelection };

export function createReplayService(
  deps: Pick<ServiceDependencies, 'pool' | 'temporal' | 'settings' | 'admission'>,
) {
  const { pool, temporal, settings } = deps;
  const admission = deps.admission ?? startAdmission(settings.maxStartsInFlight);
  const lookups = replayRequestLookups(pool);

  /**
   * The new execution's record, once its workflow has created it. Throws ReplayRequestRefused for a
   * request the records refuse, ServiceError for a conflict or an unavailable dependency; past the
   * admission limit, OVERLOADED at once (services/start-admission.ts).
   */
  function replay(parentRef: string, body: ReplayRequest, call: ReplayCall): Promise<StartedReplayAnswer> {
    return admission.run(() => startReplay(parentRef, body, call));
  }

  /** A request that named a selection gets it back (as stored); one that did not, the contract's fields only. */
  function namesSelection(body: ReplayRequest): boolean {
    return [body.select, body.modified_since, body.modified_before].some((field) => field != null);
  }

  async function startReplay(
    parentRef: string,
    body: ReplayRequest,
    call: ReplayCall,
  ): Promise<StartedReplayAnswer> {
    const { parent, execution, config, route } = await prepareReplay(lookups, parentRef, body);
    const provenanceOf = (record: { reason: string | null; requested_by: string | null }) => ({
      reason: record.reason,
      requested_by: record.requested_by,
    });
    const withSelection = (summary: StartedReplaySummary, selection: ReplaySelection): StartedReplayAnswer =>
      namesSelection(body) ? { ...summary, selection } : summary;
    const { idempotencyKey } = call;

    // Idempotency-Key: a retry of a request that created its execution gets that execution back.
    const hash = idempotencyKey ? requestHash(parent.id, body) : undefined;
    if (idempotencyKey) {
      const earlier = await findIdempotentExecution(pool, idempotencyKey, hash!);
      const existing = earlier ? await getExecution(pool, earlier) : undefined;
      if (existing)
        return withSelection(
          { ...executionSummary(existing), ...provenanceOf(existing) },
          selectionOf(existing),
        );
    }
    if (body.tag && (await isTagTaken(pool, body.tag))) {
      throw tagTakenError(body.tag);
    }
    let executionId = newExecutionId();
    let claimedKey = false;
    if (idempotencyKey) {
      // concurrent requests with one key: one claims it, the others join its execution (same workflow id)
      const claim = await claimIdempotencyKey(pool, idempotencyKey, hash!, executionId);
      executionId = claim.executionId;
      claimedKey = claim.firstRequest;
    }

    let started: ExecutionSummary | 'already-closed';
    const replay = {
      id: executionId,
      ...execution,
      requested_by: call.requestedBy,
      workflow_id: replayWorkflowId(executionId),
    };
    try {
      started = await startWithUpdate(temporal, {
        noun: 'replay',
        workflowType: REPLAY_WORKFLOW_TYPE,
        workflowId: replay.workflow_id,
        taskQueue: settings.taskQueue,
        args: [{ execution: replay, settings: settings.replay }],
        update: executionCreatedUpdate,
        searchAttributes: replaySearchAttributes(replay),
        memo: { request: { ...body, execution_id: parentRef }, correlation_id: call.correlationId },
        userMetadata: replayUserMetadata(
          replay,
          {
            parent_ref: parent.tag ?? parent.id,
            request: body,
            config: { id: config.id, name: config.name },
            route,
          },
          settings.replay,
        ),
        timeoutMs: settings.dependencyTimeoutMs,
        idempotent: idempotencyKey !== undefined,
        refusals: {
          [failureTypes.tagTaken]: () => tagTakenError(body.tag),
          [failureTypes.configNotFound]: (message) =>
            new ServiceError('not-found', 'CONFIG_NOT_FOUND', message),
          [failureTypes.routeMissing]: (message) =>
            new ServiceError('unavailable', 'ROUTE_UNAVAILABLE', message),
        },
      });
    } catch (error) {
      // a refused request leaves no claim behind, unless its replay exists or may still start
      const uncertain = error instanceof StartUncertain;
      if (claimedKey && !uncertain && !(await getExecution(pool, executionId).catch(() => undefined))) {
        await deleteIdempotencyKey(pool, idempotencyKey!, executionId).catch(() => {});
      }
      throw error;
    }
    // joined an Idempotency-Key's replay after its workflow had closed: its record is the answer
    const record: StartedReplaySummary | undefined =
      started === 'already-closed'
        ? await getExecution(pool, executionId).then(
            (found) => found && { ...executionSummary(found), ...provenanceOf(found) },
          )
        : { ...started, ...provenanceOf(replay) };
    if (!record)
      throw new ServiceError(
        'unavailable',
        'SERVICE_UNAVAILABLE',
        `Replay ${executionId} closed without a record`,
      );
    call.logger.info(
      {
        execution_id: record.id,
        workflow_id: replayWorkflowId(record.id),
        parent_execution_id: parent.id,
        root_execution_id: execution.root_execution_id,
        reason: record.reason,
        requested_by: record.requested_by,
      },
      'replay started',
    );
    return withSelection(record, execution.selection ?? SELECT_EVERYTHING);
  }

  return { replay };
}
