/**
 * Workflow interceptors, bundled with the workflows (adapters/workflow-bundle.ts): the correlation id
 * a workflow was started with (a Temporal header, adapters/correlation.ts) goes on with every
 * activity, child workflow and continue-as-new it schedules. Headers are not part of a workflow's
 * commands' determinism, and the factory runs once per workflow, so the id is this workflow's own.
 * Runs in the workflow sandbox: it imports only types.
 */
import type { Headers } from '@temporalio/common';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

/** adapters/correlation.ts CORRELATION_HEADER (not imported: this module is bundled alone). */
const CORRELATION_HEADER = 'correlation-id';

export const interceptors: WorkflowInterceptorsFactory = () => {
  let correlation: Headers[string] | undefined;
  const carry = (headers: Headers): Headers =>
    correlation && !headers[CORRELATION_HEADER] ? { ...headers, [CORRELATION_HEADER]: correlation } : headers;
  return {
    inbound: [
      {
        execute: (input, next) => {
          correlation = input.headers[CORRELATION_HEADER];
          return next(input);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => next({ ...input, headers: carry(input.headers) }),
        scheduleLocalActivity: (input, next) => next({ ...input, headers: carry(input.headers) }),
        startChildWorkflowExecution: (input, next) => next({ ...input, headers: carry(input.headers) }),
        continueAsNew: (input, next) => next({ ...input, headers: carry(input.headers) }),
      },
    ],
  };
};
