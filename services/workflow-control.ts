/** Signalling a running workflow for a request: bounded by the dependency timeout, like every call. */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DependencyUnavailable, ServiceError } from './errors.ts';
import { sleep } from '../adapters/sleep.ts';

type WorkflowHandle = ReturnType<Client['workflow']['getHandle']>;

/** gRPC NOT_FOUND: what the server answers for a workflow that has no open run. */
const GRPC_NOT_FOUND = 5;

function isClosedWorkflow(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  const code = (error as { code?: unknown; cause?: { code?: unknown } })?.code;
  const causeCode = (error as { cause?: { code?: unknown } })?.cause?.code;
  return code === GRPC_NOT_FOUND || causeCode === GRPC_NOT_FOUND;
}

/** The workflow closed between the open check and the signal: the record has moved on, read it again. */
export function workflowClosedError(workflowId: string): ServiceError {
  return new ServiceError(
    'conflict',
    'WORKFLOW_CLOSED',
    `Workflow ${workflowId} closed before it took the request; read the record again before retrying`,
  );
}

export function workflowControl(temporal: Client, timeoutMs: number) {
  const deadline = () => Date.now() + timeoutMs;
  return {
    /** Whether the workflow has an open run (one that can take signals). */
    async isOpen(workflowId: string): Promise<boolean> {
      try {
        const description = await temporal.connection.withDeadline(deadline(), () =>
          temporal.workflow.getHandle(workflowId).describe(),
        );
        return description.status.name === 'RUNNING';
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw new DependencyUnavailable('Temporal is unavailable', error);
      }
    },

    /**
     * Signals (or updates) the workflow found open. One that closed since (it finished, or was
     * terminated) is a conflict (WORKFLOW_CLOSED), not an unexpected error.
     */
    async signal(workflowId: string, send: (handle: WorkflowHandle) => Promise<void>): Promise<void> {
      try {
        await temporal.connection.withDeadline(deadline(), () =>
          send(temporal.workflow.getHandle(workflowId)),
        );
      } catch (error) {
        if (isClosedWorkflow(error)) throw workflowClosedError(workflowId);
        throw error;
      }
    },

    /**
     * Starts a new run of a workflow found closed. A concurrent request that started it first wins:
     * this one throws `conflict()`, not an unexpected error.
     */
    async startClosed(start: () => Promise<unknown>, conflict: () => ServiceError): Promise<void> {
      try {
        await temporal.connection.withDeadline(deadline(), start);
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) throw conflict();
        throw error;
      }
    },

    /** Waits (bounded) until read() shows the action applied; `applied: false` answers 202. */
    async settle<T>(read: () => Promise<T | undefined>, done: (value: T) => boolean) {
      const until = deadline();
      let value = await read();
      while (value !== undefined && !done(value) && Date.now() < until) {
        await sleep(100);
        value = await read();
      }
      return { value: value!, applied: value !== undefined && done(value) };
    },
  };
}
