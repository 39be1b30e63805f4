/**
 * Open-loop load: requests sent at a fixed arrival rate, whatever the answers take (a closed loop
 * of N clients slows down with the service and hides its queueing). Each answer's latency and
 * status are kept.
 */

export interface OpenLoopRow {
  rate: number;
  requests: number;
  ok: number;
  errors: number;
  /** Errors by status (0: no answer). */
  error_statuses: Record<string, number>;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Median latency of the errors: an overload answer must come fast. */
  error_p50_ms: number | null;
}

export interface Attempt {
  ok: boolean;
  status: number;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}

/**
 * Sends `rate` requests a second for `seconds` (or, with `keepGoing`, for as long as it says so),
 * each on its own schedule; resolves when all have answered.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  send: () => Promise<Attempt>,
  keepGoing?: () => boolean,
): Promise<OpenLoopRow> {
  const total = keepGoing ? Number.POSITIVE_INFINITY : Math.round(rate * seconds);
  const latencies: number[] = [];
  const errorLatencies: number[] = [];
  const errorStatuses: Record<string, number> = {};
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  let index = 0;
  for (; index < total && (!keepGoing || keepGoing()); index += 1) {
    const due = started + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sentAt = performance.now();
    inFlight.push(
      send()
        .catch(() => ({ ok: false, status: 0 }))
        .then((attempt) => {
          const latency = performance.now() - sentAt;
          if (attempt.ok) latencies.push(latency);
          else {
            errorLatencies.push(latency);
            errorStatuses[attempt.status] = (errorStatuses[attempt.status] ?? 0) + 1;
          }
        }),
    );
  }
  await Promise.all(inFlight);
  const all = [...latencies, ...errorLatencies];
  return {
    rate,
    requests: index,
    ok: latencies.length,
    errors: errorLatencies.length,
    error_statuses: errorStatuses,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    max_ms: percentile(all, 100),
    error_p50_ms: errorLatencies.length ? percentile(errorLatencies, 50) : null,
  };
}
