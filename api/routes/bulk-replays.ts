import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import {
  BulkReplayIdParamSchema,
  BulkReplayItemPageSchema,
  BulkReplayItemQuerySchema,
  BulkReplayRequestSchema,
  BulkReplayResponseSchema,
  type BulkReplayResponse,
} from '../bulk-replay-schemas.ts';
import type { BulkReplaySummary } from '../../domain/replay.ts';
import { createBulkReplayService } from '../../services/bulk-replay-service.ts';
import type { Context } from 'hono';
import { requesterOf, type AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { idempotencyKeyHeaders } from '../idempotency.ts';
import { bulkReplayLinks, errorResponses, operationIds } from '../responses.ts';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

/** The answer's fields: a summary carried by a workflow run recorded before some existed lacks them. */
function bulkReplayView(summary: BulkReplaySummary): BulkReplayResponse {
  return {
    ...summary,
    skipped: summary.skipped ?? 0,
    reason: summary.reason ?? null,
    requested_by: summary.requested_by ?? null,
    paused_reason: summary.paused_reason ?? null,
    failed_children: summary.failed_children ?? null,
  };
}

const createBulkReplay = createRoute({
  method: 'post',
  path: '/api/v1/bulk-replays',
  tags: ['bulk replays'],
  operationId: operationIds.createBulkReplay,
  summary: 'Replay many executions',
  description:
    'Replays every parent (listed by UUID or tag, or matched by a filter) as an ordinary replay with the same fields, at most `max_concurrent` at once. Answers once the bulk replay and its list of parents are stored; a bad parent fails its own child, not the bulk replay. `GET /api/v1/bulk-replays/{bulk_replay_id}` follows it.',
  request: {
    headers: idempotencyKeyHeaders(
      'Retry-safe key: the same key and body return the same bulk replay (one key space with replays)',
    ),
    body: { required: true, content: json(BulkReplayRequestSchema) },
  },
  responses: {
    202: {
      description: 'Accepted: the bulk replay runs',
      content: json(BulkReplayResponseSchema),
      links: bulkReplayLinks,
    },
    400: { ...errorResponses[400], description: 'A bad from_path or route, or a filter matching too many' },
    409: { ...errorResponses[409], description: 'Idempotency-Key reused with another request' },
    404: { ...errorResponses[404], description: 'config_id not found' },
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

const getBulkReplay = createRoute({
  method: 'get',
  path: '/api/v1/bulk-replays/{bulk_replay_id}',
  tags: ['bulk replays'],
  operationId: operationIds.getBulkReplay,
  summary: 'A bulk replay and its children counted by status, live',
  request: { params: BulkReplayIdParamSchema },
  responses: {
    200: { description: 'The bulk replay', content: json(BulkReplayResponseSchema) },
    404: errorResponses[404],
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

const listItems = createRoute({
  method: 'get',
  path: '/api/v1/bulk-replays/{bulk_replay_id}/items',
  tags: ['bulk replays'],
  operationId: operationIds.listBulkReplayItems,
  summary: 'The parents of a bulk replay, with their child replays and errors',
  request: { params: BulkReplayIdParamSchema, query: BulkReplayItemQuerySchema },
  responses: {
    200: { description: 'A page of parents, by position', content: json(BulkReplayItemPageSchema) },
    404: errorResponses[404],
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

const action = (name: 'cancel' | 'resume', summary: string, description: string) =>
  createRoute({
    method: 'post',
    path: `/api/v1/bulk-replays/{bulk_replay_id}/${name}`,
    tags: ['bulk replays'],
    operationId: name === 'cancel' ? operationIds.cancelBulkReplay : operationIds.resumeBulkReplay,
    summary,
    description,
    request: { params: BulkReplayIdParamSchema },
    responses: {
      200: {
        description: 'The bulk replay after the action',
        content: json(BulkReplayResponseSchema),
        links: bulkReplayLinks,
      },
      202: {
        description: 'Accepted; not applied yet',
        content: json(BulkReplayResponseSchema),
        links: bulkReplayLinks,
      },
      404: errorResponses[404],
      409: { ...errorResponses[409], description: 'The bulk replay has finished' },
      422: errorResponses[422],
      503: errorResponses[503],
    },
  });

const pauseRoute = createRoute({
  method: 'post',
  path: '/api/v1/bulk-replays/{bulk_replay_id}/pause',
  tags: ['bulk replays'],
  operationId: operationIds.pauseBulkReplay,
  summary: 'Pause a bulk replay',
  description:
    'Its running children are paused (each like a replay pause) and no new child starts until `POST .../resume`. Answers once the workflow has the request. 409 once it has finished.',
  request: { params: BulkReplayIdParamSchema },
  responses: {
    202: { description: 'Accepted', content: json(BulkReplayResponseSchema), links: bulkReplayLinks },
    404: errorResponses[404],
    409: { ...errorResponses[409], description: 'The bulk replay has finished, or has no running workflow' },
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

const cancelRoute = action(
  'cancel',
  'Cancel a bulk replay',
  'Its running children are cancelled (each like a replay cancel), the parents not started yet are cancelled, and so is the bulk replay. 409 once it has finished.',
);
const resumeRoute = action(
  'resume',
  'Resume a bulk replay',
  'An interrupted or paused bulk replay goes on, and so does every running child that is interrupted or paused. A bulk replay whose workflow was closed outside the service gets a new run that takes up its parents. 409 once it has finished.',
);

export function bulkReplayRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  const service = createBulkReplayService(deps);
  const call = (c: Context<AppEnv>) => ({ correlationId: c.get('correlationId'), logger: c.get('logger') });

  app.openapi(createBulkReplay, async (c) => {
    const summary = await service.create(c.req.valid('json'), {
      ...call(c),
      requestedBy: requesterOf(c),
      idempotencyKey: c.req.valid('header')['idempotency-key'],
    });
    c.header('Location', `/api/v1/bulk-replays/${summary.id}`);
    return c.json(bulkReplayView(summary), 202);
  });

  app.openapi(getBulkReplay, async (c) =>
    c.json(bulkReplayView(await service.summary(c.req.valid('param').bulk_replay_id)), 200),
  );

  app.openapi(listItems, async (c) => {
    const page = await service.items(c.req.valid('param').bulk_replay_id, c.req.valid('query'));
    return c.json(page, 200);
  });

  app.openapi(pauseRoute, async (c) =>
    c.json(bulkReplayView(await service.pause(c.req.valid('param').bulk_replay_id, call(c))), 202),
  );

  app.openapi(cancelRoute, async (c) => {
    const settled = await service.cancel(c.req.valid('param').bulk_replay_id, call(c));
    return c.json(bulkReplayView(settled.value), settled.applied ? 200 : 202);
  });

  app.openapi(resumeRoute, async (c) => {
    const settled = await service.resume(c.req.valid('param').bulk_replay_id, call(c));
    return c.json(bulkReplayView(settled.value), settled.applied ? 200 : 202);
  });

  return app;
}
