import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { newConfigId } from '../../adapters/ids.ts';
import { getPipelineConfig, insertPipelineConfig } from '../../adapters/pipeline-configs.ts';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { ApiError } from '../errors.ts';
import { configLinks, errorResponses, operationIds } from '../responses.ts';
import { ConfigIdParamSchema, PipelineConfigCreateSchema, PipelineConfigSchema } from '../schemas.ts';

const createConfig = createRoute({
  method: 'post',
  path: '/api/v1/configs',
  tags: ['configs'],
  operationId: operationIds.createConfig,
  summary: 'Register a pipeline config',
  request: {
    body: { required: true, content: { 'application/json': { schema: PipelineConfigCreateSchema } } },
  },
  responses: {
    201: {
      description: 'Created',
      content: { 'application/json': { schema: PipelineConfigSchema } },
      links: configLinks,
    },
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

const getConfig = createRoute({
  method: 'get',
  path: '/api/v1/configs/{config_id}',
  tags: ['configs'],
  operationId: operationIds.getConfig,
  summary: 'Get a pipeline config',
  request: { params: ConfigIdParamSchema },
  responses: {
    200: { description: 'The config', content: { 'application/json': { schema: PipelineConfigSchema } } },
    404: errorResponses[404],
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

export function configRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(createConfig, async (c) => {
    const body = c.req.valid('json');
    const config = await insertPipelineConfig(deps.pool, {
      id: newConfigId(),
      name: body.name,
      definition: { stages: body.stages, routes: body.routes, entry_route: body.entry_route },
    });
    return c.json(config, 201);
  });
  app.openapi(getConfig, async (c) => {
    const config = await getPipelineConfig(deps.pool, c.req.valid('param').config_id);
    if (!config) throw new ApiError(404, 'CONFIG_NOT_FOUND', 'Pipeline config not found');
    return c.json(config, 200);
  });
  return app;
}
