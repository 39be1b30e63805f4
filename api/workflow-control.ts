/** Signalling a running workflow from a request: bounded by the dependency timeout, like every call. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApiError } from './errors.ts';

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
        throw new ApiError(503, 'SERVICE_UNAVAILABLE', `Temporal unavailable: ${(error as Error).message}`);
      }
    },

    signal(workflowId: string, send: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<void>) {
      return temporal.connection.withDeadline(deadline(), () =>
        send(temporal.workflow.getHandle(workflowId)),
      );
    },

    /** Waits (bounded) until read() shows the action applied; `applied: false` answers 202. */
    async settle<T>(read: () => Promise<T | undefined>, done: (value: T) => boolean) {
      const until = deadline();
      let value = await read();
      while (value !== undefined && !done(value) && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        value = await read();
      }
      return { value: value!, applied: value !== undefined && done(value) };
    },
  };
}
