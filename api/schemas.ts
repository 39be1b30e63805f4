/**
 * One zod schema per wire shape: it validates requests, types the handlers and generates /openapi.json.
 * Titles and descriptions follow the contract (docs/contract.md).
 */
import { z } from '@hono/zod-openapi';
import { outputMatchRules } from '../domain/output-correspondence.ts';
import { executionStatuses, replaySources } from '../domain/replay.ts';
import { storable } from '../domain/stored-text.ts';
import { replaySelects } from '../domain/replay-selection.ts';
import {
  canaryOutcomes,
  MAX_CANARY_MESSAGES,
  MAX_CANARY_WITHIN_SECONDS,
  pausedReasons,
} from '../domain/replay-canary.ts';

const uuidExample = '01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const nameMessage =
  'must be 1-100 characters: letters, digits, "_", "-" or ".", starting with a letter or digit';

/** Limits on what a caller may store or send (README, Security). */
export const MAX_TAG_LENGTH = 128;
export const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
export const MAX_NAME_REFERENCE_LENGTH = 200;
export const MAX_METADATA_DEPTH = 8;
export const MAX_METADATA_BYTES = 16 * 1024;
export const MAX_CONFIG_STAGES = 100;
export const MAX_CONFIG_ROUTES = 100;
export const MAX_MESSAGES_PER_SECOND = 1_000_000;
/** The lowest pace accepted: one message every ten seconds (a paced wait then fits in one publishing activity). */
export const MIN_MESSAGES_PER_SECOND = 0.1;
/** A replay's `reason`: one or two sentences, carried in every message and header. */
export const MAX_REASON_LENGTH = 500;

/** Levels of objects and arrays: `{}` is 1, `{"a": [1]}` is 2. Stops counting past `limit`. */
function nestingDepth(value: unknown, limit: number): number {
  if (value === null || typeof value !== 'object') return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const item of Object.values(value)) {
    deepest = Math.max(deepest, nestingDepth(item, limit - 1));
    if (deepest >= limit) break;
  }
  return 1 + deepest;
}

export const unstorableMessage = 'Value error, must not contain NUL characters or lone surrogates';

/** The first key or string value (depth-first, depth already bounded) that Postgres cannot store. */
function hasUnstorableText(value: unknown): boolean {
  if (typeof value === 'string') return !storable(value);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, item]) => !storable(key) || hasUnstorableText(item));
}

/** A tag: 1-128 characters, letters, digits and "_", ".", ":", "-", starting with a letter or digit. */
const tagSchema = z
  .string()
  .min(1)
  .max(MAX_TAG_LENGTH)
  .regex(TAG_PATTERN, `String should match pattern '${TAG_PATTERN.source}'`);

/** Free-form metadata, bounded in depth and size: it is copied into every message of a replay. */
const metadataSchema = z.record(z.string(), z.any()).superRefine((metadata, context) => {
  if (nestingDepth(metadata, MAX_METADATA_DEPTH + 1) > MAX_METADATA_DEPTH) {
    context.addIssue({
      code: 'custom',
      message: `Value error, metadata must nest at most ${MAX_METADATA_DEPTH} levels deep`,
    });
    return;
  }
  if (hasUnstorableText(metadata)) {
    context.addIssue({ code: 'custom', message: unstorableMessage.replace('must', 'metadata must') });
    return;
  }
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > MAX_METADATA_BYTES) {
    context.addIssue({
      code: 'custom',
      message: `Value error, metadata must be at most ${MAX_METADATA_BYTES} bytes as JSON (it is ${bytes})`,
    });
  }
});
const metadataDescription = `at most ${MAX_METADATA_DEPTH} levels deep and ${MAX_METADATA_BYTES} bytes as JSON`;

/** Control characters but tab, line feed and carriage return: a reason is text for people and headers. */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Why a replay is asked for: 1-500 characters of text, kept on the record and sent with every message. */
export const ReasonSchema = z
  .string()
  .min(1)
  .max(MAX_REASON_LENGTH)
  .refine((text) => storable(text) && !CONTROL_CHARACTER.test(text), {
    message:
      'Value error, reason must not contain control characters (but tab and line breaks) or lone surrogates',
  });

/**
 * `requested_by` is the api key's name, set by the service: a body that sends it is refused (422,
 * naming the field), whatever its value, so that no caller can claim to be another.
 */
export const requestedByRefused = z
  .unknown()
  .optional()
  .superRefine((value, context) => {
    if (value !== undefined)
      context.addIssue({
        code: 'custom',
        message:
          "Value error, requested_by is set by the service from the request's API key and must not be sent",
      });
  })
  .openapi({
    readOnly: true,
    title: 'Requested By',
    description:
      "Not accepted in a request (422): the service sets it from the request's API key (its name in API_KEYS).",
  });

const reasonDescription = `Why this replay is asked for, for the people and programs that see its messages: 1-${MAX_REASON_LENGTH} characters. Kept on the new execution, shown in the Temporal UI and sent with every message (body field \`reason\`, Kafka header and SQS attribute \`reason\`).`;

export const ReplaySourceSchema = z
  .enum(replaySources)
  .openapi({ title: 'Replay Source', description: 'Type of replay' });
export const ExecutionStatusSchema = z
  .enum(executionStatuses)
  .openapi({ title: 'Status', description: 'Current status' });

export const ReplaySelectSchema = z.enum(replaySelects).openapi({
  title: 'Select',
  description:
    'An addition to the contract: `all` (the default) publishes every object of `from_stage`; `missing_outputs` only those the parent execution has no output for in the output stage of the target route (its `output_match` rule says which outputs answer an input).',
});
export const OutputMatchSchema = z.enum(outputMatchRules).openapi({
  title: 'Output Match',
  description:
    "`stem` (default): an output answers an input when its path without extension is the input's without extension, or lies in a folder of that name; `exact`: the same path.",
});
/** An instant of the modified-time window: RFC 3339 with its offset. */
const modifiedBoundSchema = z.iso.datetime({ offset: true, local: false });

/** A replay's selection, as stored and shown. */
export const ReplaySelectionSchema = z
  .object({
    select: ReplaySelectSchema,
    modified_since: z.string().nullable().openapi({ description: 'Inclusive bound, as sent; null: none' }),
    modified_before: z.string().nullable().openapi({ description: 'Exclusive bound, as sent; null: none' }),
    output_stage: z
      .string()
      .nullable()
      .openapi({ description: '`missing_outputs`: the stage of the parent whose outputs are looked for' }),
    output_match: OutputMatchSchema.nullable(),
  })
  .openapi('ReplaySelection', {
    title: 'ReplaySelection',
    description:
      'Which objects of the stage a replay publishes, besides `from_path` (an addition to the contract).',
  });

export const ReplayCanarySchema = z
  .object({
    messages: z
      .number()
      .int()
      .min(1)
      .max(MAX_CANARY_MESSAGES)
      .openapi({
        description: `Messages published first (1 to ${MAX_CANARY_MESSAGES}); the rest waits for their outputs`,
        example: 100,
      }),
    within_seconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_CANARY_WITHIN_SECONDS)
      .openapi({
        description: `Seconds (1 to ${MAX_CANARY_WITHIN_SECONDS}) the replay waits for their outputs before it pauses itself`,
        example: 300,
      }),
    min_output_ratio: z.number().gt(0).max(1).openapi({
      description:
        "Share of the canary's messages (above 0, at most 1) whose outputs must appear in the new execution's `output_stage` of the route",
      example: 0.9,
    }),
  })
  .openapi('ReplayCanary', {
    title: 'ReplayCanary',
    description:
      "An addition to the contract: publish the first `messages` messages, then wait up to `within_seconds` for outputs answering them in the new execution's output stage (the route's `output_stage`; an output answers an input when its path without extension is the input's, or a folder of it). At `min_output_ratio` the replay goes on; below it when the time is up, it pauses itself (`progress.paused_reason: canary`) until an operator resumes (no further canary) or cancels it. A route without `output_stage`: 400 `NO_OUTPUT_STAGE`.",
  });

/** In JSON Schema, the rule services/replay-request.ts enforces: a manual replay names its outputs. */
export const manualSourceNeedsFromPath = {
  if: { properties: { replay_source: { const: 'manual' } }, required: ['replay_source'] },
  then: { required: ['from_path'], properties: { from_path: { type: 'string', minLength: 1 } } },
};

export const ExecutionReplayRequestSchema = z
  .object({
    replay_source: ReplaySourceSchema,
    from_stage: z.string().min(1).max(MAX_NAME_REFERENCE_LENGTH).openapi({
      title: 'From Stage',
      description: "Pipeline stage to replay from (e.g. 'markdown_segmented')",
      example: 'markdown_segmented',
    }),
    to_route: z.string().min(1).max(MAX_NAME_REFERENCE_LENGTH).openapi({
      title: 'To Route',
      description: "Target route name (e.g. 'embedding_generator')",
      example: 'embedding_generator',
    }),
    from_path: z.string().nullable().optional().openapi({
      title: 'From Path',
      description:
        'A key or folder relative to the stage folder of the source execution; narrows the replay to it. Required for `manual`.',
      example: 'docs/2024/',
    }),
    metadata: metadataSchema
      .nullable()
      .optional()
      .openapi({
        title: 'Metadata',
        description: `Copied into the new execution and into every replay message; ${metadataDescription}.`,
        example: { reason: 'embedding model v2' },
      }),
    tag: tagSchema.nullable().optional().openapi({
      title: 'Tag',
      description:
        'A unique name for the new execution; it can be used instead of its id. 1-128 letters, digits, "_", ".", ":" or "-", starting with a letter or digit.',
      example: 'reembed-2024-11',
    }),
    config_id: z.uuid().nullable().optional().openapi({
      title: 'Config Id',
      description:
        "Cross-pipeline replay: use this pipeline config's routes instead of the parent's. Storage is still read from the parent execution.",
    }),
    max_messages_per_second: z
      .number()
      .min(MIN_MESSAGES_PER_SECOND)
      .max(MAX_MESSAGES_PER_SECOND)
      .nullable()
      .optional()
      .openapi({
        title: 'Max Messages Per Second',
        description:
          "An addition to the contract: this replay's own pace, from 0.1 (a message every ten seconds) up. The route's limit (the strictest `max_messages_per_second` any config sets for a route of that name: they share a destination) holds as well, so this can only lower it. Changeable while the replay runs (`PATCH /api/v1/executions/{execution_id}`).",
      }),
    select: ReplaySelectSchema.nullable().optional(),
    modified_since: modifiedBoundSchema.nullable().optional().openapi({
      title: 'Modified Since',
      description:
        'An addition to the contract: only objects last modified at or after this instant (RFC 3339, inclusive).',
      example: '2026-11-30T00:00:00Z',
    }),
    modified_before: modifiedBoundSchema.nullable().optional().openapi({
      title: 'Modified Before',
      description:
        'An addition to the contract: only objects last modified before this instant (RFC 3339, exclusive): the window is [modified_since, modified_before).',
      example: '2026-12-01T00:00:00Z',
    }),
    reason: ReasonSchema.nullable()
      .optional()
      .openapi({ title: 'Reason', description: reasonDescription, example: 'embedding model v2' }),
    requested_by: requestedByRefused,
    canary: ReplayCanarySchema.nullable().optional(),
  })
  .openapi('ExecutionReplayRequest', {
    ...manualSourceNeedsFromPath,
    title: 'ExecutionReplayRequest',
    description:
      "Request to replay a pipeline execution.\n\nThe execution to replay is identified by the execution_id path parameter. Server creates a new execution, starts routes, and publishes replay messages.\n\nFor cross-pipeline replay, provide config_id to use a different pipeline's routes instead of the parent's. Storage reads from the parent execution.",
  });
export type ExecutionReplayRequest = z.infer<typeof ExecutionReplayRequestSchema>;

const executionResponseShape = {
  id: z
    .uuid()
    .openapi({ title: 'Id', description: 'Execution UUID (used for storage paths)', example: uuidExample }),
  config_id: z.uuid().openapi({ title: 'Config Id', description: 'Configuration ID' }),
  status: ExecutionStatusSchema,
  started_at: z.iso
    .datetime({ offset: true })
    .openapi({ title: 'Started At', description: 'Start timestamp' }),
  completed_at: z.iso.datetime({ offset: true }).nullable().openapi({ title: 'Completed At' }),
  parent_execution_id: z.uuid().nullable().openapi({ title: 'Parent Execution Id' }),
  replay_source: ReplaySourceSchema.nullable().openapi({ title: 'Replay Source' }),
  tag: z.string().nullable().openapi({ title: 'Tag' }),
};

export const ExecutionResponseSchema = z.object(executionResponseShape).openapi('ExecutionResponse', {
  title: 'ExecutionResponse',
  description: 'Pipeline execution response.\n\nStorage paths use execution id (UUID v7) directly.',
});
export type ExecutionResponse = z.infer<typeof ExecutionResponseSchema>;

/** Who asked for a replay and why, as the api answers them. */
const provenanceShape = {
  reason: z
    .string()
    .nullable()
    .openapi({ title: 'Reason', description: "The request's reason; null: none given" }),
  requested_by: z.string().nullable().openapi({
    title: 'Requested By',
    description:
      'The name of the API key that asked for the replay; null when the api runs without authentication',
  }),
};

/**
 * The replay's answer: exactly ExecutionResponse for a request that names no selection and no reason
 * (the contract's shape); `selection`, `reason` and `requested_by` for one that does.
 */
export const ReplayExecutionResponseSchema = z
  .object({
    ...executionResponseShape,
    selection: ReplaySelectionSchema.optional().openapi({
      description:
        'An addition to the contract, only in the answer to a replay request that sent `select`, `modified_since` or `modified_before`: what the replay selects, as stored.',
    }),
    reason: provenanceShape.reason.optional(),
    requested_by: provenanceShape.requested_by.optional(),
  })
  .openapi('ReplayExecutionResponse', {
    title: 'ReplayExecutionResponse',
    description:
      "The contract's ExecutionResponse, exactly, for a request without a selection or a `reason`; with `selection` when the request named one, and `reason` and `requested_by` when it gave a reason (additions to the contract).",
  });
export type ReplayExecutionResponse = z.infer<typeof ReplayExecutionResponseSchema>;

export const ExecutionDetailSchema = z
  .object({
    ...executionResponseShape,
    root_execution_id: z
      .uuid()
      .openapi({ title: 'Root Execution Id', description: 'The first execution of the replay chain' }),
    from_stage: z.string().nullable(),
    to_route: z.string().nullable(),
    from_path: z.string().nullable(),
    metadata: z.record(z.string(), z.any()),
    progress: z.object({
      listed: z
        .number()
        .int()
        .openapi({ description: 'Keys read from the store (from_path may select fewer)' }),
      published: z.number().int().openapi({ description: 'Messages published' }),
      cursor: z
        .string()
        .nullable()
        .openapi({ description: 'Last source key published; a resumed replay lists after it' }),
      paused: z.boolean().openapi({
        description: 'Paused by an operator: the status stays `running`; nothing is published until a resume',
      }),
      paused_reason: z.enum(pausedReasons).nullable().openapi({
        description:
          'Why it is paused: `operator` (the pause endpoint, or its bulk replay paused), `canary` (its canary found too few outputs in time); null while not paused',
      }),
      canary: z
        .object({
          messages: z.number().int(),
          within_seconds: z.number().int(),
          min_output_ratio: z.number(),
          outcome: z.enum(canaryOutcomes).openapi({
            description:
              '`publishing` its messages, `watching` for their outputs, `passed`, `failed` (the replay paused itself), `skipped` (the replay was done within the canary)',
          }),
          published: z.number().int().openapi({ description: 'Messages the canary published' }),
          outputs_found: z
            .number()
            .int()
            .openapi({ description: 'Of those, the inputs answered by an output so far' }),
        })
        .nullable()
        .openapi({ description: "The replay's canary and what it counted; null: none" }),
    }),
    max_messages_per_second: z
      .number()
      .nullable()
      .openapi({ description: "The replay's own rate limit (its route's holds as well); null: none" }),
    error: z.string().nullable().openapi({ description: 'Last failure, for operators' }),
    selection: ReplaySelectionSchema,
    ...provenanceShape,
  })
  .openapi('ExecutionDetail', {
    title: 'ExecutionDetail',
    description: 'An execution with its replay settings and live progress.',
  });
export type ExecutionDetail = z.infer<typeof ExecutionDetailSchema>;

export const ExecutionPageSchema = z
  .object({
    items: z.array(ExecutionDetailSchema),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: 'Pass as `cursor` for the next (older) page; null on the last page' }),
  })
  .openapi('ExecutionPage');

export const ErrorResponseSchema = z
  .object({
    detail: z
      .string()
      .openapi({ title: 'Detail', description: 'Error message (matches FastAPI HTTPException)' }),
    error_code: z.string().nullable().optional().openapi({ title: 'Error Code' }),
    correlation_id: z.string().nullable().optional().openapi({ title: 'Correlation Id' }),
    timestamp: z.iso
      .datetime({ offset: true })
      .openapi({ title: 'Timestamp', description: 'Error timestamp' }),
  })
  .openapi('ErrorResponse', {
    title: 'ErrorResponse',
    description:
      "Standard error response matching FastAPI HTTPException format.\n\nThis model is used in OpenAPI response declarations for 4xx/5xx errors. The detail field matches FastAPI's HTTPException structure.",
  });

export const ValidationErrorSchema = z
  .object({
    loc: z.array(z.union([z.string(), z.number().int()])).openapi({ title: 'Location' }),
    msg: z.string().openapi({ title: 'Message' }),
    type: z.string().openapi({ title: 'Error Type' }),
    input: z.any().optional().openapi({ title: 'Input' }),
    ctx: z.record(z.string(), z.any()).optional().openapi({ title: 'Context' }),
  })
  .openapi('ValidationError', { title: 'ValidationError' });

export const HTTPValidationErrorSchema = z
  .object({ detail: z.array(ValidationErrorSchema).optional().openapi({ title: 'Detail' }) })
  .openapi('HTTPValidationError', { title: 'HTTPValidationError' });

/** Messages per second: a positive number up to a million (a replay's own limit, a route's). */
export const RateLimitSchema = z.number().min(MIN_MESSAGES_PER_SECOND).max(MAX_MESSAGES_PER_SECOND);

const RouteDefinitionSchema = z.object({
  name: z.string().regex(NAME_PATTERN, nameMessage),
  input_stage: z.string().regex(NAME_PATTERN, nameMessage),
  output_stage: z.string().regex(NAME_PATTERN, nameMessage).nullable(),
  max_messages_per_second: RateLimitSchema.nullable().optional().openapi({
    description:
      'Messages per second that every replay into this route shares, across all workers, from 0.1 up; absent: unlimited. Routes of one name in several configs share one destination, and the strictest of their limits holds for all of them. A replay may ask for less, never more.',
  }),
  output_match: OutputMatchSchema.optional().openapi({
    description:
      'Which outputs of `output_stage` answer an input, for a replay with `select: missing_outputs`: `stem` when absent.',
  }),
});

/** The pipeline of the document's example (and of `npm run demo`): documents segmented, then embedded. */
export const EXAMPLE_PIPELINE = {
  name: 'documents',
  stages: ['markdown', 'markdown_segmented', 'embeddings'],
  routes: [
    { name: 'markdown_segmenter', input_stage: 'markdown', output_stage: 'markdown_segmented' },
    { name: 'embedding_generator', input_stage: 'markdown_segmented', output_stage: 'embeddings' },
  ],
  entry_route: 'markdown_segmenter',
};

export const PipelineConfigCreateSchema = z
  .object({
    name: z.string().min(1).max(200).refine(storable, unstorableMessage),
    stages: z.array(z.string().regex(NAME_PATTERN, nameMessage)).min(1).max(MAX_CONFIG_STAGES),
    routes: z.array(RouteDefinitionSchema).min(1).max(MAX_CONFIG_ROUTES),
    entry_route: z.string().min(1).max(MAX_NAME_REFERENCE_LENGTH),
  })
  .superRefine((config, context) => {
    const stages = new Set(config.stages);
    if (stages.size !== config.stages.length)
      context.addIssue({ code: 'custom', path: ['stages'], message: 'Stage names must be unique' });
    const routeNames = new Set<string>();
    config.routes.forEach((route, index) => {
      if (routeNames.has(route.name))
        context.addIssue({
          code: 'custom',
          path: ['routes', index, 'name'],
          message: `Route name '${route.name}' is used twice`,
        });
      routeNames.add(route.name);
      if (!stages.has(route.input_stage))
        context.addIssue({
          code: 'custom',
          path: ['routes', index, 'input_stage'],
          message: `Unknown stage '${route.input_stage}'`,
        });
      if (route.output_stage !== null && !stages.has(route.output_stage))
        context.addIssue({
          code: 'custom',
          path: ['routes', index, 'output_stage'],
          message: `Unknown stage '${route.output_stage}'`,
        });
    });
    if (!routeNames.has(config.entry_route))
      context.addIssue({
        code: 'custom',
        path: ['entry_route'],
        message: `entry_route '${config.entry_route}' is not a route of this config`,
      });
  })
  .openapi('PipelineConfigCreate', { example: EXAMPLE_PIPELINE });

export const PipelineConfigSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    stages: z.array(z.string()),
    routes: z.array(RouteDefinitionSchema),
    entry_route: z.string(),
    created_at: z.iso.datetime({ offset: true }),
    updated_at: z.iso.datetime({ offset: true }),
  })
  .openapi('PipelineConfig');

export const ExecutionCreateSchema = z
  .object({
    config_id: z.uuid(),
    tag: tagSchema.nullable().optional(),
    metadata: metadataSchema.nullable().optional().openapi({ description: metadataDescription }),
  })
  .openapi('ExecutionCreate');

export const ExecutionListQuerySchema = z.object({
  parent_execution_id: z.uuid().optional(),
  status: z.enum(executionStatuses).optional(),
  // any text: one no tag can hold (a NUL, a lone surrogate) matches nothing
  tag: z.string().min(1).max(MAX_TAG_LENGTH).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional().openapi({ description: 'next_cursor of the previous page' }),
});

export const ExecutionIdParamSchema = z.object({
  execution_id: z
    .string()
    .min(1)
    .openapi({
      param: { name: 'execution_id', in: 'path' },
      title: 'Execution Id',
      description: 'Parent execution UUID or tag',
      example: uuidExample,
    }),
});

export const ConfigIdParamSchema = z.object({
  config_id: z.uuid().openapi({ param: { name: 'config_id', in: 'path' }, title: 'Config Id' }),
});
