/** Which dependency an unexpected error of a request came from: the api answers it 503, not 500. */
import {
  isGrpcServiceError,
  ServiceError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { isDatabaseError } from '../adapters/database.ts';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P03',
  '08006',
  '08001',
  '08003',
  '53300',
]);

/** True for errors that mean Postgres could not be reached or is going away (not a bad query). */
export function isPostgresUnavailable(error: unknown): boolean {
  const candidate = error as { code?: string; message?: string; errors?: unknown[] };
  if (candidate?.code && NETWORK_CODES.has(candidate.code)) return true;
  if (Array.isArray(candidate?.errors) && candidate.errors.some(isPostgresUnavailable)) return true;
  const message = candidate?.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connect ECONNREFUSED|Client has encountered a connection error/i.test(
    message,
  );
}

/** Errors of the Temporal client: the server refused or could not be asked (not our own bugs). */
function isTemporalError(error: unknown): error is Error {
  return (
    error instanceof ServiceError ||
    error instanceof NamespaceNotFoundError ||
    error instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
    isGrpcServiceError(error)
  );
}

export interface DependencyFailure {
  dependency: 'Postgres' | 'Temporal';
  /** Could not be reached (a warning), rather than refused the call (an error: likely a deployment fault). */
  unreachable: boolean;
  /** For the client: names the dependency; the dependency's own messages (SQL, hosts, users) stay in the logs. */
  detail: string;
}

/** The dependency an error of a request came from, whatever it failed with; undefined for our own errors. */
export function dependencyFailure(error: unknown): DependencyFailure | undefined {
  if (isPostgresUnavailable(error)) {
    return { dependency: 'Postgres', unreachable: true, detail: 'Postgres is unavailable' };
  }
  if (isDatabaseError(error)) {
    return { dependency: 'Postgres', unreachable: false, detail: 'Postgres could not serve the request' };
  }
  if (isTemporalError(error)) {
    return { dependency: 'Temporal', unreachable: false, detail: 'Temporal could not serve the request' };
  }
  return undefined;
}
