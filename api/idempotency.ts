import { createHash } from 'node:crypto';
import type { Queryable } from '../adapters/database.ts';
import { ApiError } from './errors.ts';

/** JSON with sorted keys, so the same request hashes the same whatever its key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestHash(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** The execution an earlier request with this key created, if any; 409 when that request had another body. */
export async function findIdempotentExecution(
  db: Queryable,
  key: string,
  hash: string,
): Promise<string | undefined> {
  const existing = await db.query<{ request_hash: string; execution_id: string }>(
    'SELECT request_hash, execution_id FROM idempotency_keys WHERE key = $1',
    [key],
  );
  const row = existing.rows[0];
  if (row && row.request_hash !== hash) {
    throw new ApiError(
      409,
      'IDEMPOTENCY_KEY_REUSED',
      'Idempotency-Key was already used with a different request',
    );
  }
  return row?.execution_id;
}

/** Forgets a claim whose request was refused before anything durable happened. */
export async function releaseIdempotencyKey(db: Queryable, key: string, executionId: string): Promise<void> {
  await db.query('DELETE FROM idempotency_keys WHERE key = $1 AND execution_id = $2', [key, executionId]);
}

/**
 * Claims an Idempotency-Key for a new execution id, or returns the execution id an earlier request
 * with the same key and body claimed. The same key with another body is a 409.
 */
export async function claimIdempotencyKey(
  db: Queryable,
  key: string,
  hash: string,
  candidateExecutionId: string,
): Promise<{ executionId: string; firstRequest: boolean }> {
  const inserted = await db.query(
    `INSERT INTO idempotency_keys (key, request_hash, execution_id) VALUES ($1, $2, $3)
     ON CONFLICT (key) DO NOTHING RETURNING execution_id`,
    [key, hash, candidateExecutionId],
  );
  if (inserted.rowCount === 1) return { executionId: candidateExecutionId, firstRequest: true };
  const existing = await db.query<{ request_hash: string; execution_id: string }>(
    'SELECT request_hash, execution_id FROM idempotency_keys WHERE key = $1',
    [key],
  );
  const row = existing.rows[0]!;
  if (row.request_hash !== hash) {
    throw new ApiError(
      409,
      'IDEMPOTENCY_KEY_REUSED',
      'Idempotency-Key was already used with a different request',
    );
  }
  return { executionId: row.execution_id, firstRequest: false };
}
