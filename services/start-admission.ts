import { ServiceError } from './errors.ts';

/** Retry-After of an overload answer: soon, since starts drain in well under a second. */
const OVERLOADED_RETRY_AFTER_SECONDS = 1;

/**
 * Admission control of workflow starts (replays, bulk replays) in one api process: at most
 * `maxInFlight` wait on Temporal at once. Past that the service is past its capacity, and the
 * request is answered at once with 503 OVERLOADED and Retry-After, instead of queueing behind the
 * others until the dependency timeout.
 */
export function startAdmission(maxInFlight: number) {
  let inFlight = 0;
  return {
    get inFlight() {
      return inFlight;
    },
    async run<T>(start: () => Promise<T>): Promise<T> {
      if (inFlight >= maxInFlight) {
        throw new ServiceError(
          'unavailable',
          'OVERLOADED',
          `The service is starting ${inFlight} replays already; try again shortly`,
          { retryAfterSeconds: OVERLOADED_RETRY_AFTER_SECONDS },
        );
      }
      inFlight += 1;
      try {
        return await start();
      } finally {
        inFlight -= 1;
      }
    },
  };
}

export type StartAdmission = ReturnType<typeof startAdmission>;
