import { ServiceError } from './errors.ts';

/** Rejects as `unavailable`, naming the dependency, when work takes longer than timeoutMs. */
export async function withTimeout<T>(dependency: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ServiceError(
            'unavailable',
            'SERVICE_UNAVAILABLE',
            `${dependency} did not answer within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
