import { Context } from '@temporalio/activity';

/** Never heartbeat less often than this, whatever the timeout (a cancel is delivered by heartbeats). */
const MAX_HEARTBEAT_INTERVAL_MS = 5000;

/**
 * Runs `work` while heartbeating on a timer, a few times per heartbeat timeout, with the details
 * `details()` gives at that moment. A heartbeat proves the worker is alive, not that a page moved:
 * one S3 listing or broker request may take longer than the heartbeat timeout, and without this a
 * slow store made Temporal retry a step whose first attempt was still publishing. A worker that
 * dies stops heartbeating, and its step is retried within the timeout as before; a call that hangs
 * is bounded by its own timeout (WORKER_S3_TIMEOUT_MS, WORKER_DATABASE_TIMEOUT_MS, the broker's).
 */
export async function whileHeartbeating<T>(work: () => Promise<T>, details?: () => unknown): Promise<T> {
  const context = Context.current();
  const timeoutMs = context.info.heartbeatTimeoutMs;
  if (!timeoutMs) return work();
  const beat = () => context.heartbeat(details?.());
  const timer = setInterval(beat, Math.max(100, Math.min(MAX_HEARTBEAT_INTERVAL_MS, timeoutMs / 4)));
  beat();
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
