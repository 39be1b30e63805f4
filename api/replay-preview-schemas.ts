/** The wire shape of a replay preview: one zod schema, for validation, types and /openapi.json. */
import { z } from '@hono/zod-openapi';
import { PREVIEW_MAX_FOLDERS, PREVIEW_SAMPLE_SIZE, rateBases } from '../services/replay-preview.ts';
import { OutputMatchSchema, ReplaySelectionSchema, ReplaySourceSchema } from './schemas.ts';

const count = z.number().int().min(0);

const FolderCountSchema = z.object({
  folder: z.string().openapi({
    description:
      'The first path segment under the stage folder, with its `/`; `""` for objects directly in it',
    example: 'docs/',
  }),
  count,
  bytes: count,
});

export const ReplayPreviewSchema = z
  .object({
    id: z.uuid().nullable().openapi({
      description:
        'The preview job, when the preview continues after its request (202); null when it was answered at once',
    }),
    status: z.enum(['running', 'completed', 'failed', 'cancelled']).openapi({
      description:
        '`completed`: the counts are final. `running`: counted so far (a preview job). `failed`: see `error`. `cancelled`: its job was cancelled (Temporal UI or CLI); the counts stop where it was',
    }),
    execution_id: z.uuid().openapi({ description: 'The parent execution (its UUID or tag, resolved)' }),
    source_execution_id: z.uuid().openapi({
      description:
        'The execution whose storage the replay would read: the parent, or for `lineage` the nearest ancestor that stored `from_stage`',
    }),
    replay_source: ReplaySourceSchema,
    from_stage: z.string(),
    to_route: z.string(),
    from_path: z.string().nullable().openapi({ description: 'Normalised, as the replay would store it' }),
    config: z
      .object({ id: z.uuid(), name: z.string() })
      .openapi({ description: "The target config: the parent's, or the request's config_id" }),
    route: z
      .object({
        name: z.string(),
        input_stage: z.string(),
        output_stage: z.string().nullable(),
        max_messages_per_second: z.number().int().positive().nullable().optional(),
        output_match: OutputMatchSchema.optional(),
      })
      .openapi({
        description:
          "The route the replay would publish to, as the target config defines it (its consumer's settings)",
      }),
    selection: ReplaySelectionSchema.openapi({
      description: 'What the replay would select besides from_path: the counts are of those objects only',
    }),
    count: count.openapi({ description: 'Messages the replay would publish: one per selected object' }),
    bytes: count.openapi({ description: 'Total size of the selected objects' }),
    listed: count.openapi({ description: 'Keys listed (under from_path, selected or not)' }),
    first_key: z.string().nullable().openapi({
      description: 'The first object the replay would publish (in the listing order of the store)',
    }),
    last_key: z.string().nullable().openapi({ description: 'The last object the replay would publish' }),
    sample: z.array(z.string()).openapi({
      description: `Up to ${PREVIEW_SAMPLE_SIZE} selected keys spread over the listing (a uniform sample), sorted`,
    }),
    folders: z.array(FolderCountSchema).openapi({
      description: `Objects per sub-folder of the stage folder, by name: at most ${PREVIEW_MAX_FOLDERS + 1} entries (the ${PREVIEW_MAX_FOLDERS} largest sub-folders, and \`""\`)`,
    }),
    other_folders: z
      .object({ folders: count, count, bytes: count })
      .openapi({ description: `The sub-folders beyond the ${PREVIEW_MAX_FOLDERS} largest, summed` }),
    rate: z
      .object({
        messages_per_second: z.number().positive(),
        basis: z.enum(rateBases),
      })
      .openapi({
        description:
          "The rate of the estimate: the request's `max_messages_per_second` or the route's, whichever is lower (`request`, `route`), or, when neither slows the replay down, the publish rate PREVIEW_PUBLISH_RATE configures (`default`)",
      }),
    estimated_seconds: z
      .number()
      .min(0)
      .openapi({ description: 'count / rate.messages_per_second: how long publishing would take' }),
    error: z.string().nullable().openapi({ description: 'Why a preview job failed' }),
  })
  .openapi('ReplayPreview', {
    title: 'ReplayPreview',
    description:
      'What a replay request would publish, counted without publishing: the same listing and selection as the replay.',
  });
export type ReplayPreview = z.infer<typeof ReplayPreviewSchema>;

export const PreviewIdParamSchema = z.object({
  preview_id: z.uuid().openapi({
    param: { name: 'preview_id', in: 'path' },
    title: 'Preview Id',
    description: 'A preview job',
  }),
});
