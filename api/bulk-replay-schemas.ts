/** The wire shapes of bulk replays: one zod schema each, for validation, types and /openapi.json. */
import { z } from '@hono/zod-openapi';
import { MAX_BULK_REPLAY_PARENTS } from '../adapters/bulk-replays.ts';
import { bulkPausedReasons, executionStatuses } from '../domain/replay.ts';
import {
  ExecutionReplayRequestSchema,
  manualSourceNeedsFromPath,
  MAX_NAME_REFERENCE_LENGTH,
  MAX_TAG_LENGTH,
  requestedByRefused,
  unstorableMessage,
} from './schemas.ts';
import { storable } from '../domain/stored-text.ts';

export const DEFAULT_MAX_CONCURRENT = 10;
export const MAX_MAX_CONCURRENT = 200;

/** A replay request's fields every child shares; no tag (tags name one execution). */
export const BulkReplayFieldsSchema = ExecutionReplayRequestSchema.omit({ tag: true })
  .strict()
  // a replay answers a stage or route its config lacks with 400; a bulk replay stores them first
  .superRefine((fields, context) => {
    for (const key of ['from_stage', 'to_route'] as const)
      if (!storable(fields[key]))
        context.addIssue({ code: 'custom', path: [key], message: unstorableMessage });
  })
  .openapi('BulkReplayFields', {
    ...manualSourceNeedsFromPath,
    title: 'BulkReplayFields',
    description:
      'The fields of a replay request (ExecutionReplayRequest) that every child replay shares. `tag` is not taken: a tag names one execution.',
  });

const timestamp = z.iso.datetime({ offset: true });

export const BulkReplayFilterSchema = z
  .object({
    config_id: z.uuid().nullable().optional().openapi({ description: 'Executions of this pipeline config' }),
    tag_prefix: z
      .string()
      .min(1)
      .max(MAX_TAG_LENGTH)
      .refine(storable, unstorableMessage)
      .nullable()
      .optional()
      .openapi({ description: 'Executions whose tag starts with this text' }),
    status: z
      .union([z.enum(executionStatuses), z.array(z.enum(executionStatuses)).min(1)])
      .transform((value) => (Array.isArray(value) ? value : [value]))
      .nullable()
      .optional()
      .openapi({ description: 'Executions in this status, or in any of these' }),
    started_after: timestamp.nullable().optional().openapi({ description: 'Started at or after' }),
    started_before: timestamp.nullable().optional().openapi({ description: 'Started before' }),
  })
  .strict()
  .openapi('BulkReplayFilter', {
    description: `Selects the parents when the bulk replay is created, oldest first; every condition given must hold. At most ${MAX_BULK_REPLAY_PARENTS} may match.`,
  });

export const BulkReplayRequestSchema = z
  .object({
    replay: BulkReplayFieldsSchema,
    execution_ids: z
      // a name Postgres cannot store names no execution: refused here, not by the bulk replay's first write
      .array(z.string().min(1).max(MAX_NAME_REFERENCE_LENGTH).refine(storable, unstorableMessage))
      .min(1)
      .max(MAX_BULK_REPLAY_PARENTS)
      .nullable()
      .optional()
      .openapi({
        description: `The parents, by UUID or tag, replayed in this order (at most ${MAX_BULK_REPLAY_PARENTS})`,
      }),
    filter: BulkReplayFilterSchema.nullable().optional(),
    max_concurrent: z
      .number()
      .int()
      .min(1)
      .max(MAX_MAX_CONCURRENT)
      .default(DEFAULT_MAX_CONCURRENT)
      .openapi({ description: 'Child replays running at once' }),
    skip_parents_with_open_replays: z.boolean().optional().openapi({
      description:
        'true: a parent that has a replay into the same `to_route` that is running (paused too) or interrupted (a resume would take it up) is not replayed again; its item is `skipped` and names that replay in `open_replay_id`. Absent: false.',
    }),
    requested_by: requestedByRefused,
    pause_after_failed_children: z
      .number()
      .int()
      .min(1)
      .max(MAX_BULK_REPLAY_PARENTS)
      .nullable()
      .optional()
      .openapi({
        description:
          'An addition: once this many children have failed or been interrupted (counted from the start, or from the last resume), the bulk replay pauses itself as `POST .../pause` would (`paused_reason: failed_children`) until it is resumed or cancelled',
      }),
  })
  .strict()
  .superRefine((body, context) => {
    if (!body.execution_ids === !body.filter) {
      context.addIssue({
        code: 'custom',
        message: 'Value error, give exactly one of execution_ids and filter',
        path: body.execution_ids ? ['filter'] : ['execution_ids'],
      });
    }
  })
  .openapi('BulkReplayRequest', {
    title: 'BulkReplayRequest',
    description:
      'Replays many executions, each as an ordinary replay with the same fields. A bad parent fails its own child, not the bulk replay.',
    // exactly one of the two selections, as the refinement above checks
    oneOf: [
      { required: ['execution_ids'], properties: { execution_ids: { not: { type: 'null' } } } },
      { required: ['filter'], properties: { filter: { not: { type: 'null' } } } },
    ],
  });
export type BulkReplayRequest = z.infer<typeof BulkReplayRequestSchema>;

export const BulkReplayResponseSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(executionStatuses),
    total: z.number().int().openapi({ description: 'Parents of the bulk replay' }),
    started: z.number().int().openapi({ description: 'Children whose replay has started (a record exists)' }),
    completed: z.number().int(),
    failed: z.number().int().openapi({ description: 'Refused parents and failed child replays' }),
    cancelled: z.number().int(),
    skipped: z
      .number()
      .int()
      .openapi({ description: 'Parents skipped for an open replay (skip_parents_with_open_replays)' }),
    reason: z.string().nullable().openapi({ description: "The request's `replay.reason`; null: none given" }),
    requested_by: z.string().nullable().openapi({
      description:
        'The name of the API key that asked for the bulk replay (and each child); null when the api runs without authentication',
    }),
    paused_reason: z.enum(bulkPausedReasons).nullable().openapi({
      description:
        'Why it is paused: `operator` (`POST .../pause`, or a `pause` signal from the Temporal UI or CLI) or `failed_children` (it paused itself at `pause_after_failed_children`); null while not paused',
    }),
    failed_children: z.number().int().nullable().openapi({
      description: 'The children failed or interrupted it had counted when it paused itself; null otherwise',
    }),
  })
  .openapi('BulkReplayResponse', {
    title: 'BulkReplayResponse',
    description: 'A bulk replay and its children counted by the status of their records, live.',
  });

export type BulkReplayResponse = z.infer<typeof BulkReplayResponseSchema>;

export const BulkReplayIdParamSchema = z.object({
  bulk_replay_id: z
    .uuid()
    .openapi({ param: { name: 'bulk_replay_id', in: 'path' }, title: 'Bulk Replay Id' }),
});

export const BulkReplayItemSchema = z
  .object({
    position: z.number().int(),
    parent: z
      .string()
      .openapi({ description: 'The parent as given (UUID or tag), or as the filter matched it' }),
    execution_id: z
      .uuid()
      .nullable()
      .openapi({ description: "The child replay's execution, once its parent was checked" }),
    status: z.enum([...executionStatuses, 'pending', 'skipped']).openapi({
      description:
        "The child's status; `pending` before it starts; `skipped`: not replayed, the parent has the open replay `open_replay_id`",
    }),
    error_code: z.string().nullable(),
    error: z.string().nullable(),
    open_replay_id: z
      .uuid()
      .nullable()
      .openapi({ description: "A skipped parent's open replay into the same route; null otherwise" }),
  })
  .openapi('BulkReplayItem');

export const BulkReplayItemPageSchema = z
  .object({
    items: z.array(BulkReplayItemSchema),
    next_cursor: z.number().int().nullable().openapi({ description: 'Pass as `cursor` for the next page' }),
  })
  .openapi('BulkReplayItemPage');

/** The largest position of a parent (`bulk_replay_items.position integer`). */
const MAX_ITEM_POSITION = 2_147_483_647;

export const BulkReplayItemQuerySchema = z.object({
  // an empty `?cursor=` is not the first page (a coerced "" would read as 0): refused
  cursor: z
    .preprocess(
      (value) => (value === '' ? Number.NaN : value),
      // positions are Postgres integers: a larger cursor is refused here, not by the query (a 503)
      z.coerce.number().int().min(0).max(MAX_ITEM_POSITION),
    )
    .optional()
    .openapi({ description: 'next_cursor of the previous page' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
