/**
 * Token buckets in Postgres that pace publishers across processes. A publisher reserves the
 * messages of a page before it publishes them and waits out the deficit; the bucket refills at its
 * rate and holds at most BURST_SECONDS of it, so an idle spell or a restarted worker never bursts
 * past the rate, and a reservation made before a crash is not given back (pace errs slow).
 *
 * A reservation is taken only while the wait it implies stays within `maxWaitSeconds`: a publisher
 * never waits longer than its activity may run, however many publishers share the bucket (the
 * partitions of several replays into one destination). Past that it is refused, with the time after
 * which it may ask again, and nothing is taken.
 */
import type { Queryable } from './database.ts';

/** Seconds of the rate a bucket may hold unspent. */
export const BURST_SECONDS = 1;

export type Reservation =
  /** Taken: publish after waiting this long. */
  | { reserved: true; waitSeconds: number }
  /** Refused: the bucket owes more than the caller may wait; ask again after this long. */
  | { reserved: false; retryAfterSeconds: number };

/**
 * Reserves `count` messages at `rate` per second from the bucket `key` (made on first use, full),
 * unless the wait that implies would pass `maxWaitSeconds`.
 */
export async function reserveMessages(
  db: Queryable,
  key: string,
  rate: number,
  count: number,
  maxWaitSeconds: number,
): Promise<Reservation> {
  const burst = rate * BURST_SECONDS;
  await db.query(
    `INSERT INTO rate_buckets (key, rate, tokens, updated_at) VALUES ($1, $2::float8, $3::float8, clock_timestamp())
     ON CONFLICT (key) DO NOTHING`,
    [key, rate, burst],
  );
  const result = await db.query<{ tokens: number; refilled: number; taken: boolean }>(
    `WITH current AS (
       SELECT LEAST($3::float8, tokens + $2::float8 * extract(epoch FROM clock_timestamp() - updated_at)) AS refilled
         FROM rate_buckets WHERE key = $1 FOR UPDATE
     ), decided AS (
       SELECT refilled, refilled - $4::float8 >= -$2::float8 * $5::float8 AS taken FROM current
     )
     UPDATE rate_buckets bucket
        SET tokens = CASE WHEN decided.taken THEN decided.refilled - $4::float8 ELSE decided.refilled END,
            rate = $2::float8, updated_at = clock_timestamp()
       FROM decided
      WHERE bucket.key = $1
      RETURNING bucket.tokens, decided.refilled, decided.taken`,
    [key, rate, burst, count, maxWaitSeconds],
  );
  const { tokens, refilled, taken } = result.rows[0]!;
  if (taken) return { reserved: true, waitSeconds: tokens >= 0 ? 0 : -tokens / rate };
  return { reserved: false, retryAfterSeconds: Math.max(0.05, (count - refilled) / rate - maxWaitSeconds) };
}

/** Gives back a reservation that will not be used (the other bucket refused the same page). */
export async function returnMessages(db: Queryable, key: string, count: number): Promise<void> {
  await db.query(
    'UPDATE rate_buckets SET tokens = LEAST(tokens + $2::float8, rate * $3::float8) WHERE key = $1',
    [key, count, BURST_SECONDS],
  );
}

/**
 * The bucket of a destination: the queue, topic or SQS queue a route's messages go to, whatever
 * config or pipeline names the route, so every replay into it shares one pace.
 */
export const destinationBucket = (destination: string) => `destination:${destination}`;
export const executionBucket = (executionId: string) => `execution:${executionId}`;
