/**
 * Idempotency-Key: the same key and request give the same execution; the same key with another
 * request is a 409. Keys are stored by adapters/idempotency-keys.ts.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../adapters/database.ts';
import {
  findIdempotencyKey,
  insertIdempotencyKeyIfAbsent,
  type IdempotencyKeyClaim,
} from '../adapters/idempotency-keys.ts';
import { ServiceError } from './errors.ts';

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

/**
 * The hash of a request to one parent. A field given as null counts as left out, as pydantic reads
 * both (`"from_path": null` and no from_path are the same request); values inside a field (metadata)
 * are the caller's data and are hashed as they are.
 */
export function requestHash(parentId: string, body: object): string {
  const given = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
  return createHash('sha256')
    .update(canonicalJson({ parent: parentId, body: given }))
    .digest('hex');
}

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

function sameRequestOrRefuse(claim: IdempotencyKeyClaim, hash: string): string {
  if (claim.requestHash !== hash) {
    throw new ServiceError(
      'conflict',
      'IDEMPOTENCY_KEY_REUSED',
      'Idempotency-Key was already used with a different request',
    );
  }
  return claim.executionId;
}

/** The execution an earlier request with this key created, if any; 409 when that request had another body. */
export async function findIdempotentExecution(
  db: Queryable,
  key: string,
  hash: string,
): Promise<string | undefined> {
  const claim = await findIdempotencyKey(db, key);
  return claim ? sameRequestOrRefuse(claim, hash) : undefined;
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
  if (await insertIdempotencyKeyIfAbsent(db, key, { requestHash: hash, executionId: candidateExecutionId })) {
    return { executionId: candidateExecutionId, firstRequest: true };
  }
  const claim = await findIdempotencyKey(db, key);
  // claimed a moment ago by a request that was refused since: claim it again
  if (!claim) return claimIdempotencyKey(db, key, hash, candidateExecutionId);
  return { executionId: sameRequestOrRefuse(claim, hash), firstRequest: false };
}
