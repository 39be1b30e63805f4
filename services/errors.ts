/**
 * The errors the services throw, in the domain's terms: what went wrong, not which HTTP status says
 * it. The api maps each kind to its answer (api/errors.ts `httpStatusOf`).
 */
export type ServiceErrorKind = 'invalid' | 'not-found' | 'conflict' | 'unavailable';

export class ServiceError extends Error {
  override readonly name: string = 'ServiceError';

  constructor(
    readonly kind: ServiceErrorKind,
    /** The contract's error_code. */
    readonly code: string,
    /** For a person; never a dependency's own words (hosts, users, SQL). */
    detail: string,
    readonly options: {
      /** The cause, for the log only. */
      failure?: unknown;
      /** When an `unavailable` is worth trying again. */
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(detail);
  }
}

/**
 * A dependency (Temporal, Postgres, S3, a broker) failed. The client gets `detail`, a stable message
 * without the dependency's own text; the log gets `failure` under the request's correlation id.
 */
export class DependencyUnavailable extends ServiceError {
  constructor(detail: string, failure: unknown, retryAfterSeconds?: number) {
    super('unavailable', 'SERVICE_UNAVAILABLE', detail, { failure, retryAfterSeconds });
  }
}

/** A tag names one execution: the message every refusal of a taken tag gives. */
export function tagTakenError(tag: string | null | undefined): ServiceError {
  return new ServiceError('conflict', 'TAG_CONFLICT', tagTakenMessage(tag));
}

export function tagTakenMessage(tag: string | null | undefined): string {
  return `Tag '${tag}' is already used by another execution`;
}
