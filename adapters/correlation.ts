/**
 * The correlation id of the api request behind a workflow, carried in Temporal headers: the api's
 * client interceptor puts the request's id (kept for the request by runWithCorrelationId) on every
 * start, update-with-start and signal; the workflow interceptors
 * (adapters/correlation-workflow-interceptors.ts, bundled with the workflows) pass it on to the
 * activities, children and next runs they schedule; an activity reads it with correlationIdOf. No
 * call to Temporal is needed to know which request a worker's log line belongs to.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';

/** The header's name; the workflow interceptors spell it the same. */
export const CORRELATION_HEADER = 'correlation-id';

const current = new AsyncLocalStorage<string>();

/** Runs a request's work with its correlation id, for the client interceptor to find. */
export function runWithCorrelationId<T>(correlationId: string, work: () => T): T {
  return current.run(correlationId, work);
}

function withCorrelation(headers: Headers): Headers {
  const correlationId = current.getStore();
  if (!correlationId || headers[CORRELATION_HEADER]) return headers;
  return { ...headers, [CORRELATION_HEADER]: defaultPayloadConverter.toPayload(correlationId) };
}

/** The api's client interceptor: the request's correlation id on every start and signal it sends. */
export function correlationClientInterceptor(): WorkflowClientInterceptor {
  return {
    start: (input, next) => next({ ...input, headers: withCorrelation(input.headers) }),
    startWithDetails: (input, next) => next({ ...input, headers: withCorrelation(input.headers) }),
    startUpdateWithStart: (input, next) =>
      next({ ...input, workflowStartHeaders: withCorrelation(input.workflowStartHeaders) }),
    signal: (input, next) => next({ ...input, headers: withCorrelation(input.headers) }),
    signalWithStart: (input, next) => next({ ...input, headers: withCorrelation(input.headers) }),
    startUpdate: (input, next) => next({ ...input, headers: withCorrelation(input.headers) }),
  };
}

/** The correlation id an activity (or workflow) was scheduled with, if any. */
export function correlationIdOf(headers: Headers | undefined): string | undefined {
  const payload = headers?.[CORRELATION_HEADER];
  return payload ? defaultPayloadConverter.fromPayload<string>(payload) : undefined;
}
