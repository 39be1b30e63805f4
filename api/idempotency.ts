/** The `Idempotency-Key` request header as the creating routes declare it (services/idempotency.ts keeps the keys). */
import { z } from '@hono/zod-openapi';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../services/idempotency.ts';

/** The optional `Idempotency-Key` request header, as each creating route declares it. */
export function idempotencyKeyHeaders(description: string) {
  return z.object({
    'idempotency-key': z
      .string()
      .min(1)
      .max(MAX_IDEMPOTENCY_KEY_LENGTH)
      .optional()
      .openapi({ param: { name: 'idempotency-key', in: 'header' }, description }),
  });
}
