/**
 * Token buckets in Postgres that pace publishers across processes. A publisher reserves the
 * messages of a page before it publishes them and waits out the deficit; the bucket refills at its
 * rate and holds at most BURST_SECONDS of it, so an idle spell or a restarted worker never bursts
 * past the rate, and a reservation made before a crash is not given back (pace errs slow).
 */
import type { Queryable } from './database.ts';

/** Seconds of the rate a bucket may hold unspent. */
export const BURST_SECONDS = 1;

/**
 * Reserves `count` messages at `rate` per second from the bucket `key` (made on first use, full);
 * returns the seconds to wait before publishing them (0 when the tokens were there).
 */
export async function reserveMessages(
  db: Queryable,
  key: string,
  rate: number,
  count: number,
): Promise<number> {
  const burst = rate * BURST_SECONDS;
  const result = await db.query<{ tokens: number }>(
    `INSERT INTO rate_buckets AS bucket (key, rate, tokens, updated_at)
     VALUES ($1, $2::float8, $3::float8 - $4::float8, clock_timestamp())
     ON CONFLICT (key) DO UPDATE
        SET tokens = LEAST($3::float8, bucket.tokens + $2::float8 * extract(epoch FROM clock_timestamp() - bucket.updated_at))
                     - $4::float8,
            rate = $2::float8, updated_at = clock_timestamp()
     RETURNING tokens`,
    [key, rate, burst, count],
  );
  const tokens = result.rows[0]!.tokens;
  return tokens >= 0 ? 0 : -tokens / rate;
}

export const routeBucket = (route: string) => `route:${route}`;
export const executionBucket = (executionId: string) => `execution:${executionId}`;
