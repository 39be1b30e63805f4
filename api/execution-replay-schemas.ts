/** The wire shapes of the replays of one execution (GET /api/v1/executions/{execution_id}/replays). */
import { z } from '@hono/zod-openapi';
import { ExecutionListQuerySchema, ExecutionStatusSchema, ReplaySourceSchema } from './schemas.ts';

export const ExecutionReplaySchema = z
  .object({
    id: z.uuid().openapi({ description: "The replay's execution id" }),
    tag: z.string().nullable(),
    status: ExecutionStatusSchema,
    paused: z.boolean().openapi({ description: 'Paused by an operator (the status stays `running`)' }),
    requested_by: z.string().nullable().openapi({
      description: 'The name of the API key that asked for it; null when the api ran without authentication',
    }),
    reason: z.string().nullable().openapi({ description: "The request's reason; null: none given" }),
    started_at: z.iso
      .datetime({ offset: true })
      .openapi({ description: 'When it was created (a replay starts as its record is created)' }),
    completed_at: z.iso.datetime({ offset: true }).nullable(),
    replay_source: ReplaySourceSchema.nullable(),
    from_stage: z.string().nullable(),
    to_route: z.string().nullable(),
    listed: z.number().int().openapi({ description: 'Keys read from the store' }),
    published: z.number().int().openapi({ description: 'Messages published' }),
    error: z.string().nullable().openapi({ description: 'Last failure, for operators' }),
  })
  .openapi('ExecutionReplay', {
    description: 'One replay of an execution: who asked, why, when, and how far it got.',
  });
export type ExecutionReplay = z.infer<typeof ExecutionReplaySchema>;

export const ExecutionReplayPageSchema = z
  .object({
    items: z.array(ExecutionReplaySchema),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: 'Pass as `cursor` for the next (older) page; null on the last page' }),
  })
  .openapi('ExecutionReplayPage');

/** `limit` and `cursor` exactly as GET /api/v1/executions takes them. */
export const ExecutionReplayQuerySchema = ExecutionListQuerySchema.pick({ limit: true, cursor: true });
