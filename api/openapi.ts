/**
 * The OpenAPI 3.1 document served at /openapi.json: the routes' own entries (api/routes/*), plus what
 * the middlewares may answer on each operation (401, 403, 413, 415, 422, 429) and the bearer scheme,
 * as this deployment's settings make them. docs/openapi.json is its snapshot (`npm run openapi`).
 */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { AUTH_REALM, HEALTH_PATHS, OPEN_PATHS, type ApiAuthOptions } from './auth.ts';
import type { AppEnv } from './context.ts';
import { MAX_JSON_DEPTH, type ApiLimits } from './limits.ts';

export const SECURITY_SCHEME = 'bearerAuth';

/**
 * Answers the middlewares give, by status, each a component of the document (components.responses):
 * every operation that can get one declares it with a $ref; 405 belongs to a path, not an operation.
 */
export const SHARED_RESPONSES = {
  401: 'Unauthorized',
  403: 'Forbidden',
  405: 'MethodNotAllowed',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  422: 'JsonTooDeep',
  429: 'RateLimited',
} as const;

type SharedStatus = keyof typeof SHARED_RESPONSES;

const READ_METHODS = new Set(['get', 'head']);

/** Registers the bearer scheme and the shared responses; call once, before the document is built. */
export function registerOpenApiComponents(app: OpenAPIHono<AppEnv>, authRequired: boolean) {
  if (authRequired) {
    app.openAPIRegistry.registerComponent('securitySchemes', SECURITY_SCHEME, {
      type: 'http',
      scheme: 'bearer',
      description:
        'An API key (`npm run api-key` makes one): `Authorization: Bearer er_...`. Keys are configured as SHA-256 hashes in API_KEYS or API_KEYS_FILE; a `read` key may only GET.',
    });
  }
  // ErrorResponse and HTTPValidationError are in components.schemas through the routes that answer them
  const content = (schema: string) => ({
    'application/json': { schema: { $ref: `#/components/schemas/${schema}` } },
  });
  const responses: Record<(typeof SHARED_RESPONSES)[SharedStatus], [string, string]> = {
    Unauthorized: [
      `No API key, or an unknown one (UNAUTHORIZED); \`WWW-Authenticate: Bearer realm="${AUTH_REALM}"\``,
      'ErrorResponse',
    ],
    Forbidden: ['A read-only API key on a request that changes something (FORBIDDEN)', 'ErrorResponse'],
    MethodNotAllowed: [
      'The path has no operation for this method (METHOD_NOT_ALLOWED); `Allow` lists those it has',
      'ErrorResponse',
    ],
    PayloadTooLarge: ['The body is larger than MAX_BODY_BYTES (PAYLOAD_TOO_LARGE)', 'ErrorResponse'],
    UnsupportedMediaType: [
      'A body with a Content-Type other than JSON (UNSUPPORTED_MEDIA_TYPE); a body without one is read as JSON',
      'ErrorResponse',
    ],
    JsonTooDeep: [`A JSON body nested deeper than ${MAX_JSON_DEPTH} levels`, 'HTTPValidationError'],
    RateLimited: [
      "The key's rate limit is spent (RATE_LIMITED); `Retry-After` says when to come back",
      'ErrorResponse',
    ],
  };
  for (const [name, [description, schema]] of Object.entries(responses)) {
    app.openAPIRegistry.registerComponent('responses', name, { description, content: content(schema) });
  }
}

type Operation = { responses?: Record<string, unknown>; requestBody?: unknown; security?: unknown[] };

/** The statuses the middlewares may answer on this operation, with these settings. */
function sharedStatusesOf(
  path: string,
  method: string,
  operation: Operation,
  settings: { auth: ApiAuthOptions; limits: ApiLimits },
): SharedStatus[] {
  const { auth, limits } = settings;
  const read = READ_METHODS.has(method);
  const open = OPEN_PATHS.includes(path) || (auth.publicHealth && HEALTH_PATHS.includes(path));
  const needsKey = auth.required && !open;
  const perMinute = read ? limits.readsPerMinute : limits.writesPerMinute;
  const statuses: SharedStatus[] = [];
  if (needsKey) statuses.push(401);
  if (needsKey && !read) statuses.push(403);
  // any body is measured and, when JSON, its depth checked, whether the operation reads it or not
  if (!read) statuses.push(413);
  if (operation.requestBody) statuses.push(415);
  if (!read) statuses.push(422);
  if (path.startsWith('/api/') && perMinute > 0) statuses.push(429);
  return statuses;
}

/** The document, with the shared answers declared on every operation that can give them. */
export function openApiDocument(
  app: OpenAPIHono<AppEnv>,
  settings: { auth: ApiAuthOptions; limits: ApiLimits },
) {
  const { auth, limits } = settings;
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'Execution Replay', version: '0.1.0', description: apiDescription(limits.maxBodyBytes) },
    ...(auth.required ? { security: [{ [SECURITY_SCHEME]: [] }] } : {}),
  });
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, value] of Object.entries(item ?? {})) {
      if (!value || typeof value !== 'object' || !('responses' in value)) continue;
      const operation = value as Operation;
      // the health endpoints are open unless PUBLIC_HEALTH_ENDPOINTS=false
      if (auth.required && auth.publicHealth && HEALTH_PATHS.includes(path)) operation.security = [];
      const responses = (operation.responses ??= {});
      for (const status of sharedStatusesOf(path, method, operation, settings)) {
        responses[status] ??= { $ref: `#/components/responses/${SHARED_RESPONSES[status]}` };
      }
      operation.responses = Object.fromEntries(
        Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)),
      );
    }
  }
  withUuidPatterns(document);
  return document;
}

/**
 * `format: uuid` is only an annotation in JSON Schema 2020-12: a client, or a fuzzer, may take ""
 * for a valid UUID. The pattern zod checks (z.uuid(): RFC 9562 versions 1 to 8, nil and max) says
 * what the api accepts, on every UUID field of the document.
 */
function withUuidPatterns(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) withUuidPatterns(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const schema = node as Record<string, unknown>;
  if (schema.format === 'uuid' && schema.pattern === undefined) schema.pattern = UUID_PATTERN;
  for (const value of Object.values(schema)) withUuidPatterns(value);
}

const UUID_PATTERN = z.regexes.uuid().source;

function apiDescription(maxBodyBytes: number): string {
  return [
    'Replays pipeline executions durably on Temporal.',
    '',
    'Every `/api` operation needs `Authorization: Bearer <API key>` (unless the deployment turned authentication off for local development); `/openapi.json` and `/docs` are open, and so are `/healthz`, `/readyz` and `/metrics` unless PUBLIC_HEALTH_ENDPOINTS=false.',
    `Each operation declares every status it may answer, among them 401, 403, 413 (bodies over ${maxBodyBytes} bytes), 415 and 429 (per-key rate limit, with Retry-After), described once in components.responses. A method a path does not have is answered 405 with \`Allow\`.`,
    `A body without Content-Type is read as JSON. JSON bodies may nest at most ${MAX_JSON_DEPTH} levels (deeper: 422).`,
  ].join('\n');
}
