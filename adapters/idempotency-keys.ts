import type { Queryable } from './database.ts';

/** An Idempotency-Key as stored: the hash of the request that claimed it and the execution it made. */
export interface IdempotencyKeyClaim {
  requestHash: string;
  executionId: string;
}

export async function findIdempotencyKey(
  db: Queryable,
  key: string,
): Promise<IdempotencyKeyClaim | undefined> {
  const result = await db.query<{ request_hash: string; execution_id: string }>(
    'SELECT request_hash, execution_id FROM idempotency_keys WHERE key = $1',
    [key],
  );
  const row = result.rows[0];
  return row ? { requestHash: row.request_hash, executionId: row.execution_id } : undefined;
}

/** Stores the claim unless the key is taken (safe under concurrent callers); true when it was stored. */
export async function insertIdempotencyKeyIfAbsent(
  db: Queryable,
  key: string,
  claim: IdempotencyKeyClaim,
): Promise<boolean> {
  const inserted = await db.query(
    `INSERT INTO idempotency_keys (key, request_hash, execution_id) VALUES ($1, $2, $3)
     ON CONFLICT (key) DO NOTHING`,
    [key, claim.requestHash, claim.executionId],
  );
  return inserted.rowCount === 1;
}

/** Forgets a key, if it still names this execution. */
export async function deleteIdempotencyKey(db: Queryable, key: string, executionId: string): Promise<void> {
  await db.query('DELETE FROM idempotency_keys WHERE key = $1 AND execution_id = $2', [key, executionId]);
}
