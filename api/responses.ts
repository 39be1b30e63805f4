import { ErrorResponseSchema, HTTPValidationErrorSchema } from './schemas.ts';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

/** OpenAPI response entries shared by the routes. */
export const errorResponses = {
  400: { description: 'Invalid route, stage or from_path', content: json(ErrorResponseSchema) },
  404: { description: 'Resource not found', content: json(ErrorResponseSchema) },
  409: {
    description: 'Conflict (tag taken, Idempotency-Key reused with another body)',
    content: json(ErrorResponseSchema),
  },
  422: { description: 'Validation Error', content: json(HTTPValidationErrorSchema) },
  503: { description: 'Temporal or Postgres unavailable', content: json(ErrorResponseSchema) },
} as const;
