import type { ServiceErrorKind } from '../services/errors.ts';
import type { z } from 'zod';

/** An error the api answers with an `ErrorResponse` (the contract's shape) and this status. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 503,
    readonly errorCode: string,
    detail: string,
    /** For a 503: when to try again (the answer's Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
  }
}

/** The answer to each kind of the services' errors (services/errors.ts). */
export const httpStatusOf = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  unavailable: 503,
} as const satisfies Record<ServiceErrorKind, ApiError['status']>;

export interface ErrorResponseBody {
  detail: string;
  error_code: string | null;
  correlation_id: string | null;
  timestamp: string;
}

export function errorResponseBody(
  detail: string,
  errorCode: string,
  correlationId: string | undefined,
): ErrorResponseBody {
  return {
    detail,
    error_code: errorCode,
    correlation_id: correlationId ?? null,
    timestamp: new Date().toISOString(),
  };
}

/** One entry of FastAPI's `HTTPValidationError.detail` (pydantic v2 error). */
export interface ValidationErrorItem {
  loc: (string | number)[];
  msg: string;
  type: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

const locationOf: Record<string, string> = { json: 'body', param: 'path', query: 'query', header: 'header' };

function quoteList(values: readonly unknown[]): string {
  const quoted = values.map((value) => `'${String(value)}'`);
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** pydantic's error for a value past a bound: a string's length, a list's size, a number. */
function boundError(
  origin: string,
  limit: number,
  side: 'min' | 'max',
): Pick<ValidationErrorItem, 'msg' | 'type' | 'ctx'> {
  const atMost = side === 'max';
  const bound = atMost ? 'at most' : 'at least';
  const length = { [atMost ? 'max_length' : 'min_length']: limit };
  const plural = limit === 1 ? '' : 's';
  if (origin === 'string') {
    const type = atMost ? 'string_too_long' : 'string_too_short';
    return { msg: `String should have ${bound} ${limit} character${plural}`, type, ctx: length };
  }
  if (origin === 'array') {
    const msg = `List should have ${bound} ${limit} item${plural} after validation`;
    return { msg, type: atMost ? 'too_long' : 'too_short', ctx: length };
  }
  return atMost
    ? { msg: `Input should be less than or equal to ${limit}`, type: 'less_than_equal', ctx: { le: limit } }
    : {
        msg: `Input should be greater than or equal to ${limit}`,
        type: 'greater_than_equal',
        ctx: { ge: limit },
      };
}

/** Maps one zod issue to the pydantic v2 error a FastAPI service would have returned. */
function toPydanticError(issue: z.core.$ZodIssue, location: string, input: unknown): ValidationErrorItem {
  const loc = [location, ...issue.path.map((part) => (typeof part === 'number' ? part : String(part)))];
  const value = valueAt(input, issue.path);
  const withInput = (item: Omit<ValidationErrorItem, 'loc'>): ValidationErrorItem => ({ loc, ...item });
  const absent = value === undefined && issue.path.length > 0;
  if (absent && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) {
    return withInput({
      msg: 'Field required',
      type: 'missing',
      input: valueAt(input, issue.path.slice(0, -1)) ?? null,
    });
  }
  switch (issue.code) {
    case 'invalid_type': {
      if (value === undefined)
        return withInput({
          msg: 'Field required',
          type: 'missing',
          input: issue.path.length ? (valueAt(input, issue.path.slice(0, -1)) ?? null) : null,
        });
      if (issue.path.length === 0 && location === 'body') {
        return withInput({
          msg: 'Input should be a valid dictionary or object to extract fields from',
          type: 'model_attributes_type',
          input: value,
        });
      }
      const byExpected: Record<string, [string, string]> = {
        string: ['string_type', 'Input should be a valid string'],
        object: ['dict_type', 'Input should be a valid dictionary'],
        record: ['dict_type', 'Input should be a valid dictionary'],
        array: ['list_type', 'Input should be a valid list'],
        number: ['int_parsing', 'Input should be a valid integer, unable to parse string as an integer'],
        int: ['int_parsing', 'Input should be a valid integer, unable to parse string as an integer'],
        boolean: ['bool_type', 'Input should be a valid boolean'],
      };
      const [type, msg] = byExpected[issue.expected] ?? [
        'type_error',
        `Input should be a valid ${issue.expected}`,
      ];
      return withInput({ msg, type, input: value });
    }
    case 'too_small':
      return withInput({ ...boundError(issue.origin, Number(issue.minimum), 'min'), input: value });
    case 'too_big':
      return withInput({ ...boundError(issue.origin, Number(issue.maximum), 'max'), input: value });
    case 'invalid_value': {
      const expected = quoteList(issue.values);
      return withInput({ msg: `Input should be ${expected}`, type: 'enum', input: value, ctx: { expected } });
    }
    case 'invalid_format':
      if (issue.format === 'uuid') {
        return withInput({ msg: 'Input should be a valid UUID', type: 'uuid_parsing', input: value });
      }
      if (issue.format === 'regex') {
        return withInput({
          msg: issue.message,
          type: 'string_pattern_mismatch',
          input: value,
          ctx: { pattern: String((issue as { pattern?: string }).pattern ?? '') },
        });
      }
      return withInput({ msg: issue.message, type: 'value_error', input: value });
    default:
      return withInput({ msg: issue.message, type: 'value_error', input: value });
  }
}

/** FastAPI's 422 body for a failed zod validation of one request part. */
export function httpValidationError(
  error: z.ZodError,
  target: string,
  input: unknown,
): { detail: ValidationErrorItem[] } {
  const location = locationOf[target] ?? target;
  return { detail: error.issues.map((issue) => toPydanticError(issue, location, input)) };
}

/** FastAPI's 422 for a body that is not JSON. */
export function jsonInvalidError(message: string): { detail: ValidationErrorItem[] } {
  return {
    detail: [
      {
        loc: ['body', 0],
        msg: 'JSON decode error',
        type: 'json_invalid',
        input: {},
        ctx: { error: message },
      },
    ],
  };
}

/** A validation failure found after schema parsing (cross-field rules); answered as FastAPI's 422. */
export class RequestValidationError extends Error {
  constructor(readonly detail: ValidationErrorItem[]) {
    super(detail.map((item) => item.msg).join('; '));
  }
}
