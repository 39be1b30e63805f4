import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { createReplayPreviewService } from '../../services/replay-preview-service.ts';
import { PreviewIdParamSchema, ReplayPreviewSchema } from '../replay-preview-schemas.ts';
import { errorResponses, operationIds, previewLinks } from '../responses.ts';
import { ExecutionIdParamSchema, ExecutionReplayRequestSchema } from '../schemas.ts';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const previewRoute = createRoute({
  method: 'post',
  path: '/api/v1/executions/{execution_id}/replay/preview',
  tags: ['executions'],
  operationId: operationIds.previewReplay,
  summary: 'Preview a replay: what it would publish, without publishing',
  description: `Takes the body of \`POST /api/v1/executions/{execution_id}/replay\`, checks it exactly as the replay does (a bad request gets the replay's answer) and creates nothing: it lists what the replay would publish (the same source execution, prefix and from_path selection) and answers the count, bytes, first and last keys, a sample, the counts per sub-folder, the route and the estimated duration at the applicable rate.

Exact at any size, in flat memory. Counted within the request (up to PREVIEW_INLINE_MAX_KEYS keys and half of DEPENDENCY_TIMEOUT_MS): 200 with \`status: completed\`. Larger: 202 with the counts so far, \`status: running\`, and a preview job that goes on counting; \`Location\` (and the \`GetReplayPreview\` link) is its status URL.`,
  request: {
    params: ExecutionIdParamSchema,
    body: { required: true, content: json(ExecutionReplayRequestSchema) },
  },
  responses: {
    200: { description: 'Counted: the preview is final', content: json(ReplayPreviewSchema) },
    202: {
      description: 'Still counting: a preview job goes on; `Location` is its status URL',
      content: json(ReplayPreviewSchema),
      links: previewLinks,
    },
    400: errorResponses[400],
    404: errorResponses[404],
    409: { ...errorResponses[409], description: 'The tag is taken (the replay would be refused)' },
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

const getPreviewRoute = createRoute({
  method: 'get',
  path: '/api/v1/replay-previews/{preview_id}',
  tags: ['executions'],
  operationId: operationIds.getReplayPreview,
  summary: 'A preview job: its counts so far, final once `completed`',
  request: { params: PreviewIdParamSchema },
  responses: {
    200: { description: 'The preview', content: json(ReplayPreviewSchema) },
    404: errorResponses[404],
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

export function replayPreviewRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  const service = createReplayPreviewService(deps);

  app.openapi(previewRoute, async (c) => {
    const { execution_id: parentRef } = c.req.valid('param');
    const preview = await service.preview(parentRef, c.req.valid('json'), {
      correlationId: c.get('correlationId'),
      logger: c.get('logger'),
    });
    if (preview.status === 'completed') return c.json(preview, 200);
    c.header('Location', `/api/v1/replay-previews/${preview.id}`);
    return c.json(preview, 202);
  });

  app.openapi(getPreviewRoute, async (c) => c.json(await service.get(c.req.valid('param').preview_id), 200));

  return app;
}
