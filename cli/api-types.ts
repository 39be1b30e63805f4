/**
 * The api's types, generated from docs/openapi.json by `npm run openapi:types` (openapi-typescript).
 * Do not edit: change the api, then run `npm run openapi`.
 */
export interface paths {
  '/api/v1/bulk-replays': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Replay many executions
     * @description Replays every parent (listed by UUID or tag, or matched by a filter) as an ordinary replay with the same fields, at most `max_concurrent` at once. Answers once the bulk replay and its list of parents are stored; a bad parent fails its own child, not the bulk replay. `GET /api/v1/bulk-replays/{bulk_replay_id}` follows it.
     */
    post: operations['create_bulk_replay_api_v1_bulk_replays_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/bulk-replays/{bulk_replay_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A bulk replay and its children counted by status, live */
    get: operations['get_bulk_replay_api_v1_bulk_replays__bulk_replay_id__get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/bulk-replays/{bulk_replay_id}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Cancel a bulk replay
     * @description Its running children are cancelled (each like a replay cancel), the parents not started yet are cancelled, and so is the bulk replay. 409 once it has finished.
     */
    post: operations['cancel_bulk_replay_api_v1_bulk_replays__bulk_replay_id__cancel_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/bulk-replays/{bulk_replay_id}/items': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The parents of a bulk replay, with their child replays and errors */
    get: operations['list_bulk_replay_items_api_v1_bulk_replays__bulk_replay_id__items_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/bulk-replays/{bulk_replay_id}/pause': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Pause a bulk replay
     * @description Its running children are paused (each like a replay pause) and no new child starts until `POST .../resume`. Answers once the workflow has the request. 409 once it has finished.
     */
    post: operations['pause_bulk_replay_api_v1_bulk_replays__bulk_replay_id__pause_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/bulk-replays/{bulk_replay_id}/resume': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Resume a bulk replay
     * @description An interrupted or paused bulk replay goes on, and so does every running child that is interrupted or paused. A bulk replay whose workflow was closed outside the service gets a new run that takes up its parents. 409 once it has finished.
     */
    post: operations['resume_bulk_replay_api_v1_bulk_replays__bulk_replay_id__resume_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/configs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Register a pipeline config */
    post: operations['create_config_api_v1_configs_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/configs/{config_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a pipeline config */
    get: operations['get_config_api_v1_configs__config_id__get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/executions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List executions, newest first */
    get: operations['list_executions_api_v1_executions_get'];
    put?: never;
    /**
     * Start a normal execution of a pipeline config
     * @description Creates the record, starts every route of the config and sends the init message to its entry_route.
     */
    post: operations['create_execution_api_v1_executions_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/executions/{execution_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get an execution by UUID or tag, with its progress */
    get: operations['get_execution_api_v1_executions__execution_id__get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /**
     * Change a running replay's rate limit
     * @description Sets (a number) or lifts (null) the replay's own `max_messages_per_second`; it takes effect from the next page. The route's limit holds as well. 409 once the replay has finished.
     */
    patch: operations['change_execution_api_v1_executions__execution_id__patch'];
    trace?: never;
  };
  '/api/v1/executions/{execution_id}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Cancel a running or interrupted execution
     * @description A `running` or `interrupted` execution stops publishing; its routes and record become `cancelled`. 409 when it has already finished.
     */
    post: operations['cancel_execution_api_v1_executions__execution_id__cancel_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/executions/{execution_id}/pause': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Pause a replay
     * @description Publishing stops before the next page; the status stays `running` (the contract has no paused status) and `progress.paused` becomes true; the `ReplayStatus` search attribute says `paused`. `POST .../resume` continues it. Pausing a paused replay changes nothing. 409 once the replay has finished.
     */
    post: operations['pause_execution_api_v1_executions__execution_id__pause_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/executions/{execution_id}/replay': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Replay Execution
     * @description Replay a previous pipeline execution.
     *
     *     Full replay coordinator:
     *
     *       1. Creates a new execution record linked to the parent
     *       2. Starts routes via OrchestratorManager (skip init_message)
     *       3. Publishes replay messages from source storage to target route
     *
     *     For cross-pipeline replay, provide config_id in the request body to use a different pipeline's routes. Storage reads from the parent execution.
     */
    post: operations['replay_execution_api_v1_executions__execution_id__replay_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/executions/{execution_id}/replay/preview': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Preview a replay: what it would publish, without publishing
     * @description Takes the body of `POST /api/v1/executions/{execution_id}/replay`, checks it exactly as the replay does (a bad request gets the replay's answer) and creates nothing: it lists what the replay would publish (the same source execution, prefix and from_path selection) and answers the count, bytes, first and last keys, a sample, the counts per sub-folder, the route and the estimated duration at the applicable rate.
     *
     *     Exact at any size, in flat memory. Counted within the request (up to PREVIEW_INLINE_MAX_KEYS keys and half of DEPENDENCY_TIMEOUT_MS): 200 with `status: completed`. Larger: 202 with the counts so far, `status: running`, and a preview job that goes on counting; `Location` (and the `GetReplayPreview` link) is its status URL.
     */
    post: operations['preview_replay_api_v1_executions__execution_id__replay_preview_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/executions/{execution_id}/replays': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The replays of an execution, newest first
     * @description Every execution whose parent is this one (by UUID or tag): who asked for it, why, when, its status and counts. Paginated as `GET /api/v1/executions` is: `limit` (1 to 200, 50 by default) and `cursor` (the previous page's `next_cursor`).
     */
    get: operations['list_execution_replays_api_v1_executions__execution_id__replays_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/executions/{execution_id}/resume': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Resume an interrupted replay
     * @description An `interrupted` or paused replay goes on from its cursor: its waiting workflow is signalled, or, when the workflow was closed outside the service, a new run starts from the cursor kept in Postgres. 409 unless the execution is `interrupted` or paused.
     */
    post: operations['resume_execution_api_v1_executions__execution_id__resume_post'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/replay-previews/{preview_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A preview job: its counts so far, final once `completed` */
    get: operations['get_replay_preview_api_v1_replay_previews__preview_id__get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/healthz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The process is alive */
    get: operations['healthz_healthz_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/readyz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Temporal, Postgres and S3 are each reachable */
    get: operations['readyz_readyz_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /**
     * BulkReplayFields
     * @description The fields of a replay request (ExecutionReplayRequest) that every child replay shares. `tag` is not taken: a tag names one execution.
     */
    BulkReplayFields: {
      canary?: components['schemas']['ReplayCanary'];
      /**
       * Config Id
       * Format: uuid
       * @description Cross-pipeline replay: use this pipeline config's routes instead of the parent's. Storage is still read from the parent execution.
       */
      config_id?: string | null;
      /**
       * From Path
       * @description A key or folder relative to the stage folder of the source execution; narrows the replay to it. Required for `manual`.
       * @example docs/2024/
       */
      from_path?: string | null;
      /**
       * From Stage
       * @description Pipeline stage to replay from (e.g. 'markdown_segmented')
       * @example markdown_segmented
       */
      from_stage: string;
      /**
       * Max Messages Per Second
       * @description An addition to the contract: this replay's own pace, from 0.1 (a message every ten seconds) up. The route's limit (the strictest `max_messages_per_second` any config sets for a route of that name: they share a destination) holds as well, so this can only lower it. Changeable while the replay runs (`PATCH /api/v1/executions/{execution_id}`).
       */
      max_messages_per_second?: number | null;
      /**
       * Metadata
       * @description Copied into the new execution and into every replay message; at most 8 levels deep and 16384 bytes as JSON.
       * @example {
       *       "reason": "embedding model v2"
       *     }
       */
      metadata?: {
        [key: string]: unknown;
      } | null;
      /**
       * Modified Before
       * Format: date-time
       * @description An addition to the contract: only objects last modified before this instant (RFC 3339, exclusive): the window is [modified_since, modified_before).
       * @example 2026-12-01T00:00:00Z
       */
      modified_before?: string | null;
      /**
       * Modified Since
       * Format: date-time
       * @description An addition to the contract: only objects last modified at or after this instant (RFC 3339, inclusive).
       * @example 2026-11-30T00:00:00Z
       */
      modified_since?: string | null;
      /**
       * Reason
       * @description Why this replay is asked for, for the people and programs that see its messages: 1-500 characters. Kept on the new execution, shown in the Temporal UI and sent with every message (body field `reason`, Kafka header and SQS attribute `reason`).
       * @example embedding model v2
       */
      reason?: string | null;
      /**
       * Replay Source
       * @description Type of replay
       * @enum {string}
       */
      replay_source: 'storage' | 'lineage' | 'manual';
      /**
       * Requested By
       * @description Not accepted in a request (422): the service sets it from the request's API key (its name in API_KEYS).
       */
      readonly requested_by?: unknown;
      /**
       * Select
       * @description An addition to the contract: `all` (the default) publishes every object of `from_stage`; `missing_outputs` only those the parent execution has no output for in the output stage of the target route (its `output_match` rule says which outputs answer an input).
       * @enum {string|null}
       */
      select?: 'all' | 'missing_outputs' | null;
      /**
       * To Route
       * @description Target route name (e.g. 'embedding_generator')
       * @example embedding_generator
       */
      to_route: string;
    };
    /** @description Selects the parents when the bulk replay is created, oldest first; every condition given must hold. At most 10000 may match. */
    BulkReplayFilter: {
      /**
       * Format: uuid
       * @description Executions of this pipeline config
       */
      config_id?: string | null;
      /**
       * Format: date-time
       * @description Started at or after
       */
      started_after?: string | null;
      /**
       * Format: date-time
       * @description Started before
       */
      started_before?: string | null;
      /** @description Executions in this status, or in any of these */
      status?:
        | ('running' | 'completed' | 'failed' | 'cancelled' | 'interrupted')
        | ('running' | 'completed' | 'failed' | 'cancelled' | 'interrupted')[]
        | null;
      /** @description Executions whose tag starts with this text */
      tag_prefix?: string | null;
    } | null;
    BulkReplayItem: {
      error: string | null;
      error_code: string | null;
      /**
       * Format: uuid
       * @description The child replay's execution, once its parent was checked
       */
      execution_id: string | null;
      /**
       * Format: uuid
       * @description A skipped parent's open replay into the same route; null otherwise
       */
      open_replay_id: string | null;
      /** @description The parent as given (UUID or tag), or as the filter matched it */
      parent: string;
      position: number;
      /**
       * @description The child's status; `pending` before it starts; `skipped`: not replayed, the parent has the open replay `open_replay_id`
       * @enum {string}
       */
      status: 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted' | 'pending' | 'skipped';
    };
    BulkReplayItemPage: {
      items: components['schemas']['BulkReplayItem'][];
      /** @description Pass as `cursor` for the next page */
      next_cursor: number | null;
    };
    /**
     * BulkReplayRequest
     * @description Replays many executions, each as an ordinary replay with the same fields. A bad parent fails its own child, not the bulk replay.
     */
    BulkReplayRequest: {
      /** @description The parents, by UUID or tag, replayed in this order (at most 10000) */
      execution_ids?: string[] | null;
      filter?: components['schemas']['BulkReplayFilter'];
      /**
       * @description Child replays running at once
       * @default 10
       */
      max_concurrent?: number;
      /** @description An addition: once this many children have failed or been interrupted (counted from the start, or from the last resume), the bulk replay pauses itself as `POST .../pause` would (`paused_reason: failed_children`) until it is resumed or cancelled */
      pause_after_failed_children?: number | null;
      replay: components['schemas']['BulkReplayFields'];
      /**
       * Requested By
       * @description Not accepted in a request (422): the service sets it from the request's API key (its name in API_KEYS).
       */
      readonly requested_by?: unknown;
      /** @description true: a parent that has a replay into the same `to_route` that is running (paused too) or interrupted (a resume would take it up) is not replayed again; its item is `skipped` and names that replay in `open_replay_id`. Absent: false. */
      skip_parents_with_open_replays?: boolean;
    } & (
      | {
          execution_ids: unknown;
        }
      | {
          filter: unknown;
        }
    );
    /**
     * BulkReplayResponse
     * @description A bulk replay and its children counted by the status of their records, live.
     */
    BulkReplayResponse: {
      cancelled: number;
      completed: number;
      /** @description Refused parents and failed child replays */
      failed: number;
      /** @description The children failed or interrupted it had counted when it paused itself; null otherwise */
      failed_children: number | null;
      /** Format: uuid */
      id: string;
      /**
       * @description Why it is paused: `operator` (`POST .../pause`, or a `pause` signal from the Temporal UI or CLI) or `failed_children` (it paused itself at `pause_after_failed_children`); null while not paused
       * @enum {string|null}
       */
      paused_reason: 'operator' | 'failed_children' | null;
      /** @description The request's `replay.reason`; null: none given */
      reason: string | null;
      /** @description The name of the API key that asked for the bulk replay (and each child); null when the api runs without authentication */
      requested_by: string | null;
      /** @description Parents skipped for an open replay (skip_parents_with_open_replays) */
      skipped: number;
      /** @description Children whose replay has started (a record exists) */
      started: number;
      /** @enum {string} */
      status: 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
      /** @description Parents of the bulk replay */
      total: number;
    };
    /**
     * ErrorResponse
     * @description Standard error response matching FastAPI HTTPException format.
     *
     *     This model is used in OpenAPI response declarations for 4xx/5xx errors. The detail field matches FastAPI's HTTPException structure.
     */
    ErrorResponse: {
      /** Correlation Id */
      correlation_id?: string | null;
      /**
       * Detail
       * @description Error message (matches FastAPI HTTPException)
       */
      detail: string;
      /** Error Code */
      error_code?: string | null;
      /**
       * Timestamp
       * Format: date-time
       * @description Error timestamp
       */
      timestamp: string;
    };
    ExecutionCreate: {
      /** Format: uuid */
      config_id: string;
      /** @description at most 8 levels deep and 16384 bytes as JSON */
      metadata?: {
        [key: string]: unknown;
      } | null;
      tag?: string | null;
    };
    /**
     * ExecutionDetail
     * @description An execution with its replay settings and live progress.
     */
    ExecutionDetail: {
      /**
       * Completed At
       * Format: date-time
       */
      completed_at: string | null;
      /**
       * Config Id
       * Format: uuid
       * @description Configuration ID
       */
      config_id: string;
      /** @description Last failure, for operators */
      error: string | null;
      from_path: string | null;
      from_stage: string | null;
      /**
       * Id
       * Format: uuid
       * @description Execution UUID (used for storage paths)
       * @example 01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10
       */
      id: string;
      /** @description The replay's own rate limit (its route's holds as well); null: none */
      max_messages_per_second: number | null;
      metadata: {
        [key: string]: unknown;
      };
      /**
       * Parent Execution Id
       * Format: uuid
       */
      parent_execution_id: string | null;
      progress: {
        /** @description The replay's canary and what it counted; null: none */
        canary: {
          messages: number;
          min_output_ratio: number;
          /**
           * @description `publishing` its messages, `watching` for their outputs, `passed`, `failed` (the replay paused itself), `skipped` (the replay was done within the canary)
           * @enum {string}
           */
          outcome: 'publishing' | 'watching' | 'passed' | 'failed' | 'skipped';
          /** @description Of those, the inputs answered by an output so far */
          outputs_found: number;
          /** @description Messages the canary published */
          published: number;
          within_seconds: number;
        } | null;
        /** @description Last source key published; a resumed replay lists after it */
        cursor: string | null;
        /** @description Keys read from the store (from_path may select fewer) */
        listed: number;
        /** @description Paused by an operator: the status stays `running`; nothing is published until a resume */
        paused: boolean;
        /**
         * @description Why it is paused: `operator` (the pause endpoint, or its bulk replay paused), `canary` (its canary found too few outputs in time); null while not paused
         * @enum {string|null}
         */
        paused_reason: 'operator' | 'canary' | null;
        /** @description Messages published */
        published: number;
      };
      /**
       * Reason
       * @description The request's reason; null: none given
       */
      reason: string | null;
      /**
       * Replay Source
       * @description Type of replay
       * @enum {string|null}
       */
      replay_source: 'storage' | 'lineage' | 'manual' | null;
      /**
       * Requested By
       * @description The name of the API key that asked for the replay; null when the api runs without authentication
       */
      requested_by: string | null;
      /**
       * Root Execution Id
       * Format: uuid
       * @description The first execution of the replay chain
       */
      root_execution_id: string;
      selection: components['schemas']['ReplaySelection'];
      /**
       * Started At
       * Format: date-time
       * @description Start timestamp
       */
      started_at: string;
      /**
       * Status
       * @description Current status
       * @enum {string}
       */
      status: 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
      /** Tag */
      tag: string | null;
      to_route: string | null;
    };
    ExecutionPage: {
      items: components['schemas']['ExecutionDetail'][];
      /** @description Pass as `cursor` for the next (older) page; null on the last page */
      next_cursor: string | null;
    };
    /** @description One replay of an execution: who asked, why, when, and how far it got. */
    ExecutionReplay: {
      /** Format: date-time */
      completed_at: string | null;
      /** @description Last failure, for operators */
      error: string | null;
      from_stage: string | null;
      /**
       * Format: uuid
       * @description The replay's execution id
       */
      id: string;
      /** @description Keys read from the store */
      listed: number;
      /** @description Paused by an operator (the status stays `running`) */
      paused: boolean;
      /** @description Messages published */
      published: number;
      /** @description The request's reason; null: none given */
      reason: string | null;
      /**
       * Replay Source
       * @description Type of replay
       * @enum {string|null}
       */
      replay_source: 'storage' | 'lineage' | 'manual' | null;
      /** @description The name of the API key that asked for it; null when the api ran without authentication */
      requested_by: string | null;
      /**
       * Format: date-time
       * @description When it was created (a replay starts as its record is created)
       */
      started_at: string;
      /**
       * Status
       * @description Current status
       * @enum {string}
       */
      status: 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
      tag: string | null;
      to_route: string | null;
    };
    ExecutionReplayPage: {
      items: components['schemas']['ExecutionReplay'][];
      /** @description Pass as `cursor` for the next (older) page; null on the last page */
      next_cursor: string | null;
    };
    /**
     * ExecutionReplayRequest
     * @description Request to replay a pipeline execution.
     *
     *     The execution to replay is identified by the execution_id path parameter. Server creates a new execution, starts routes, and publishes replay messages.
     *
     *     For cross-pipeline replay, provide config_id to use a different pipeline's routes instead of the parent's. Storage reads from the parent execution.
     */
    ExecutionReplayRequest: {
      canary?: components['schemas']['ReplayCanary'];
      /**
       * Config Id
       * Format: uuid
       * @description Cross-pipeline replay: use this pipeline config's routes instead of the parent's. Storage is still read from the parent execution.
       */
      config_id?: string | null;
      /**
       * From Path
       * @description A key or folder relative to the stage folder of the source execution; narrows the replay to it. Required for `manual`.
       * @example docs/2024/
       */
      from_path?: string | null;
      /**
       * From Stage
       * @description Pipeline stage to replay from (e.g. 'markdown_segmented')
       * @example markdown_segmented
       */
      from_stage: string;
      /**
       * Max Messages Per Second
       * @description An addition to the contract: this replay's own pace, from 0.1 (a message every ten seconds) up. The route's limit (the strictest `max_messages_per_second` any config sets for a route of that name: they share a destination) holds as well, so this can only lower it. Changeable while the replay runs (`PATCH /api/v1/executions/{execution_id}`).
       */
      max_messages_per_second?: number | null;
      /**
       * Metadata
       * @description Copied into the new execution and into every replay message; at most 8 levels deep and 16384 bytes as JSON.
       * @example {
       *       "reason": "embedding model v2"
       *     }
       */
      metadata?: {
        [key: string]: unknown;
      } | null;
      /**
       * Modified Before
       * Format: date-time
       * @description An addition to the contract: only objects last modified before this instant (RFC 3339, exclusive): the window is [modified_since, modified_before).
       * @example 2026-12-01T00:00:00Z
       */
      modified_before?: string | null;
      /**
       * Modified Since
       * Format: date-time
       * @description An addition to the contract: only objects last modified at or after this instant (RFC 3339, inclusive).
       * @example 2026-11-30T00:00:00Z
       */
      modified_since?: string | null;
      /**
       * Reason
       * @description Why this replay is asked for, for the people and programs that see its messages: 1-500 characters. Kept on the new execution, shown in the Temporal UI and sent with every message (body field `reason`, Kafka header and SQS attribute `reason`).
       * @example embedding model v2
       */
      reason?: string | null;
      /**
       * Replay Source
       * @description Type of replay
       * @enum {string}
       */
      replay_source: 'storage' | 'lineage' | 'manual';
      /**
       * Requested By
       * @description Not accepted in a request (422): the service sets it from the request's API key (its name in API_KEYS).
       */
      readonly requested_by?: unknown;
      /**
       * Select
       * @description An addition to the contract: `all` (the default) publishes every object of `from_stage`; `missing_outputs` only those the parent execution has no output for in the output stage of the target route (its `output_match` rule says which outputs answer an input).
       * @enum {string|null}
       */
      select?: 'all' | 'missing_outputs' | null;
      /**
       * Tag
       * @description A unique name for the new execution; it can be used instead of its id. 1-128 letters, digits, "_", ".", ":" or "-", starting with a letter or digit.
       * @example reembed-2024-11
       */
      tag?: string | null;
      /**
       * To Route
       * @description Target route name (e.g. 'embedding_generator')
       * @example embedding_generator
       */
      to_route: string;
    };
    /**
     * ExecutionResponse
     * @description Pipeline execution response.
     *
     *     Storage paths use execution id (UUID v7) directly.
     */
    ExecutionResponse: {
      /**
       * Completed At
       * Format: date-time
       */
      completed_at: string | null;
      /**
       * Config Id
       * Format: uuid
       * @description Configuration ID
       */
      config_id: string;
      /**
       * Id
       * Format: uuid
       * @description Execution UUID (used for storage paths)
       * @example 01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10
       */
      id: string;
      /**
       * Parent Execution Id
       * Format: uuid
       */
      parent_execution_id: string | null;
      /**
       * Replay Source
       * @description Type of replay
       * @enum {string|null}
       */
      replay_source: 'storage' | 'lineage' | 'manual' | null;
      /**
       * Started At
       * Format: date-time
       * @description Start timestamp
       */
      started_at: string;
      /**
       * Status
       * @description Current status
       * @enum {string}
       */
      status: 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
      /** Tag */
      tag: string | null;
    };
    /** HTTPValidationError */
    HTTPValidationError: {
      /** Detail */
      detail?: components['schemas']['ValidationError'][];
    };
    PipelineConfig: {
      /** Format: date-time */
      created_at: string;
      entry_route: string;
      /** Format: uuid */
      id: string;
      name: string;
      routes: {
        input_stage: string;
        /** @description Messages per second that every replay into this route shares, across all workers, from 0.1 up; absent: unlimited. Routes of one name in several configs share one destination, and the strictest of their limits holds for all of them. A replay may ask for less, never more. */
        max_messages_per_second?: number | null;
        name: string;
        /**
         * Output Match
         * @description Which outputs of `output_stage` answer an input, for a replay with `select: missing_outputs`: `stem` when absent.
         * @enum {string}
         */
        output_match?: 'stem' | 'exact';
        output_stage: string | null;
      }[];
      stages: string[];
      /** Format: date-time */
      updated_at: string;
    };
    /**
     * @example {
     *       "name": "documents",
     *       "stages": [
     *         "markdown",
     *         "markdown_segmented",
     *         "embeddings"
     *       ],
     *       "routes": [
     *         {
     *           "name": "markdown_segmenter",
     *           "input_stage": "markdown",
     *           "output_stage": "markdown_segmented"
     *         },
     *         {
     *           "name": "embedding_generator",
     *           "input_stage": "markdown_segmented",
     *           "output_stage": "embeddings"
     *         }
     *       ],
     *       "entry_route": "markdown_segmenter"
     *     }
     */
    PipelineConfigCreate: {
      entry_route: string;
      name: string;
      routes: {
        input_stage: string;
        /** @description Messages per second that every replay into this route shares, across all workers, from 0.1 up; absent: unlimited. Routes of one name in several configs share one destination, and the strictest of their limits holds for all of them. A replay may ask for less, never more. */
        max_messages_per_second?: number | null;
        name: string;
        /**
         * Output Match
         * @description Which outputs of `output_stage` answer an input, for a replay with `select: missing_outputs`: `stem` when absent.
         * @enum {string}
         */
        output_match?: 'stem' | 'exact';
        output_stage: string | null;
      }[];
      stages: string[];
    };
    /**
     * ReplayCanary
     * @description An addition to the contract: publish the first `messages` messages, then wait up to `within_seconds` for outputs answering them in the new execution's output stage (the route's `output_stage`; an output answers an input when its path without extension is the input's, or a folder of it). At `min_output_ratio` the replay goes on; below it when the time is up, it pauses itself (`progress.paused_reason: canary`) until an operator resumes (no further canary) or cancels it. A route without `output_stage`: 400 `NO_OUTPUT_STAGE`.
     */
    ReplayCanary: {
      /**
       * @description Messages published first (1 to 10000); the rest waits for their outputs
       * @example 100
       */
      messages: number;
      /**
       * @description Share of the canary's messages (above 0, at most 1) whose outputs must appear in the new execution's `output_stage` of the route
       * @example 0.9
       */
      min_output_ratio: number;
      /**
       * @description Seconds (1 to 3600) the replay waits for their outputs before it pauses itself
       * @example 300
       */
      within_seconds: number;
    } | null;
    ReplayChange: {
      /** @description The replay's own rate limit from its next page on; null lifts it (the route's limit still holds) */
      max_messages_per_second: number | null;
    };
    /**
     * ReplayExecutionResponse
     * @description The contract's ExecutionResponse, exactly, for a request without a selection or a `reason`; with `selection` when the request named one, and `reason` and `requested_by` when it gave a reason (additions to the contract).
     */
    ReplayExecutionResponse: {
      /**
       * Completed At
       * Format: date-time
       */
      completed_at: string | null;
      /**
       * Config Id
       * Format: uuid
       * @description Configuration ID
       */
      config_id: string;
      /**
       * Id
       * Format: uuid
       * @description Execution UUID (used for storage paths)
       * @example 01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10
       */
      id: string;
      /**
       * Parent Execution Id
       * Format: uuid
       */
      parent_execution_id: string | null;
      /**
       * Reason
       * @description The request's reason; null: none given
       */
      reason?: string | null;
      /**
       * Replay Source
       * @description Type of replay
       * @enum {string|null}
       */
      replay_source: 'storage' | 'lineage' | 'manual' | null;
      /**
       * Requested By
       * @description The name of the API key that asked for the replay; null when the api runs without authentication
       */
      requested_by?: string | null;
      selection?: components['schemas']['ReplaySelection'] & unknown;
      /**
       * Started At
       * Format: date-time
       * @description Start timestamp
       */
      started_at: string;
      /**
       * Status
       * @description Current status
       * @enum {string}
       */
      status: 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
      /** Tag */
      tag: string | null;
    };
    /**
     * ReplayPreview
     * @description What a replay request would publish, counted without publishing: the same listing and selection as the replay.
     */
    ReplayPreview: {
      /** @description Total size of the selected objects */
      bytes: number;
      /** @description The target config: the parent's, or the request's config_id */
      config: {
        /** Format: uuid */
        id: string;
        name: string;
      };
      /** @description Messages the replay would publish: one per selected object */
      count: number;
      /** @description Why a preview job failed */
      error: string | null;
      /** @description count / rate.messages_per_second: how long publishing would take */
      estimated_seconds: number;
      /**
       * Format: uuid
       * @description The parent execution (its UUID or tag, resolved)
       */
      execution_id: string;
      /** @description The first object the replay would publish (in the listing order of the store) */
      first_key: string | null;
      /** @description Objects per sub-folder of the stage folder, by name: at most 101 entries (the 100 largest sub-folders, and `""`) */
      folders: {
        bytes: number;
        count: number;
        /**
         * @description The first path segment under the stage folder, with its `/`; `""` for objects directly in it
         * @example docs/
         */
        folder: string;
      }[];
      /** @description Normalised, as the replay would store it */
      from_path: string | null;
      from_stage: string;
      /**
       * Format: uuid
       * @description The preview job, when the preview continues after its request (202); null when it was answered at once
       */
      id: string | null;
      /** @description The last object the replay would publish */
      last_key: string | null;
      /** @description Keys listed (under from_path, selected or not) */
      listed: number;
      /** @description The sub-folders beyond the 100 largest, summed */
      other_folders: {
        bytes: number;
        count: number;
        folders: number;
      };
      /** @description The rate of the estimate: the request's `max_messages_per_second` or the route's, whichever is lower (`request`, `route`), or, when neither slows the replay down, the publish rate PREVIEW_PUBLISH_RATE configures (`default`) */
      rate: {
        /** @enum {string} */
        basis: 'request' | 'route' | 'default';
        messages_per_second: number;
      };
      /**
       * Replay Source
       * @description Type of replay
       * @enum {string}
       */
      replay_source: 'storage' | 'lineage' | 'manual';
      /** @description The route the replay would publish to, as the target config defines it (its consumer's settings) */
      route: {
        input_stage: string;
        max_messages_per_second?: number | null;
        name: string;
        /**
         * Output Match
         * @description `stem` (default): an output answers an input when its path without extension is the input's without extension, or lies in a folder of that name; `exact`: the same path.
         * @enum {string}
         */
        output_match?: 'stem' | 'exact';
        output_stage: string | null;
      };
      /** @description Up to 10 selected keys spread over the listing (a uniform sample), sorted */
      sample: string[];
      selection: components['schemas']['ReplaySelection'] & unknown;
      /**
       * Format: uuid
       * @description The execution whose storage the replay would read: the parent, or for `lineage` the nearest ancestor that stored `from_stage`
       */
      source_execution_id: string;
      /**
       * @description `completed`: the counts are final. `running`: counted so far (a preview job). `failed`: see `error`. `cancelled`: its job was cancelled (Temporal UI or CLI); the counts stop where it was
       * @enum {string}
       */
      status: 'running' | 'completed' | 'failed' | 'cancelled';
      to_route: string;
    };
    /**
     * ReplaySelection
     * @description Which objects of the stage a replay publishes, besides `from_path` (an addition to the contract).
     */
    ReplaySelection: {
      /** @description Exclusive bound, as sent; null: none */
      modified_before: string | null;
      /** @description Inclusive bound, as sent; null: none */
      modified_since: string | null;
      /**
       * Output Match
       * @description `stem` (default): an output answers an input when its path without extension is the input's without extension, or lies in a folder of that name; `exact`: the same path.
       * @enum {string|null}
       */
      output_match: 'stem' | 'exact' | null;
      /** @description `missing_outputs`: the stage of the parent whose outputs are looked for */
      output_stage: string | null;
      /**
       * Select
       * @description An addition to the contract: `all` (the default) publishes every object of `from_stage`; `missing_outputs` only those the parent execution has no output for in the output stage of the target route (its `output_match` rule says which outputs answer an input).
       * @enum {string}
       */
      select: 'all' | 'missing_outputs';
    };
    /** ValidationError */
    ValidationError: {
      /** Context */
      ctx?: {
        [key: string]: unknown;
      };
      /** Input */
      input?: unknown;
      /** Location */
      loc: (string | number)[];
      /** Message */
      msg: string;
      /** Error Type */
      type: string;
    };
  };
  responses: {
    /** @description A read-only API key on a request that changes something (FORBIDDEN) */
    Forbidden: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['ErrorResponse'];
      };
    };
    /** @description A JSON body nested deeper than 32 levels */
    JsonTooDeep: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['HTTPValidationError'];
      };
    };
    /** @description The path has no operation for this method (METHOD_NOT_ALLOWED); `Allow` lists those it has */
    MethodNotAllowed: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['ErrorResponse'];
      };
    };
    /** @description The body is larger than MAX_BODY_BYTES (PAYLOAD_TOO_LARGE) */
    PayloadTooLarge: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['ErrorResponse'];
      };
    };
    /** @description The key's rate limit is spent (RATE_LIMITED); `Retry-After` says when to come back */
    RateLimited: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['ErrorResponse'];
      };
    };
    /** @description No API key, or an unknown one (UNAUTHORIZED); `WWW-Authenticate: Bearer realm="execution-replay"` */
    Unauthorized: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['ErrorResponse'];
      };
    };
    /** @description A body with a Content-Type other than JSON (UNSUPPORTED_MEDIA_TYPE); a body without one is read as JSON */
    UnsupportedMediaType: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['ErrorResponse'];
      };
    };
  };
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  create_bulk_replay_api_v1_bulk_replays_post: {
    parameters: {
      query?: never;
      header?: {
        /** @description Retry-safe key: the same key and body return the same bulk replay (one key space with replays) */
        'idempotency-key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['BulkReplayRequest'];
      };
    };
    responses: {
      /** @description Accepted: the bulk replay runs */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkReplayResponse'];
        };
      };
      /** @description A bad from_path or route, or a filter matching too many */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description config_id not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description Idempotency-Key reused with another request */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      415: components['responses']['UnsupportedMediaType'];
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  get_bulk_replay_api_v1_bulk_replays__bulk_replay_id__get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        bulk_replay_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The bulk replay */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkReplayResponse'];
        };
      };
      401: components['responses']['Unauthorized'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  cancel_bulk_replay_api_v1_bulk_replays__bulk_replay_id__cancel_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        bulk_replay_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The bulk replay after the action */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkReplayResponse'];
        };
      };
      /** @description Accepted; not applied yet */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkReplayResponse'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description The bulk replay has finished */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  list_bulk_replay_items_api_v1_bulk_replays__bulk_replay_id__items_get: {
    parameters: {
      query?: {
        /** @description next_cursor of the previous page */
        cursor?: number | null;
        limit?: number;
      };
      header?: never;
      path: {
        bulk_replay_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of parents, by position */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkReplayItemPage'];
        };
      };
      401: components['responses']['Unauthorized'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  pause_bulk_replay_api_v1_bulk_replays__bulk_replay_id__pause_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        bulk_replay_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Accepted */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkReplayResponse'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description The bulk replay has finished, or has no running workflow */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  resume_bulk_replay_api_v1_bulk_replays__bulk_replay_id__resume_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        bulk_replay_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The bulk replay after the action */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkReplayResponse'];
        };
      };
      /** @description Accepted; not applied yet */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkReplayResponse'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description The bulk replay has finished */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  create_config_api_v1_configs_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PipelineConfigCreate'];
      };
    };
    responses: {
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PipelineConfig'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      413: components['responses']['PayloadTooLarge'];
      415: components['responses']['UnsupportedMediaType'];
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  get_config_api_v1_configs__config_id__get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        config_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The config */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PipelineConfig'];
        };
      };
      401: components['responses']['Unauthorized'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  list_executions_api_v1_executions_get: {
    parameters: {
      query?: {
        /** @description next_cursor of the previous page */
        cursor?: string;
        limit?: number;
        parent_execution_id?: string;
        status?: 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
        tag?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of executions */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionPage'];
        };
      };
      401: components['responses']['Unauthorized'];
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  create_execution_api_v1_executions_post: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ExecutionCreate'];
      };
    };
    responses: {
      /** @description Started */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionResponse'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description Conflict (tag taken, Idempotency-Key reused with another body) */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      415: components['responses']['UnsupportedMediaType'];
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  get_execution_api_v1_executions__execution_id__get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Parent execution UUID or tag */
        execution_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The execution */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionDetail'];
        };
      };
      401: components['responses']['Unauthorized'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  change_execution_api_v1_executions__execution_id__patch: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Parent execution UUID or tag */
        execution_id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ReplayChange'];
      };
    };
    responses: {
      /** @description The replay with its new limit */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionDetail'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description Not a replay, or finished */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      415: components['responses']['UnsupportedMediaType'];
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  cancel_execution_api_v1_executions__execution_id__cancel_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Parent execution UUID or tag */
        execution_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The execution after the action */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionResponse'];
        };
      };
      /** @description Accepted; the workflow has not applied it yet */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionResponse'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description The execution is not in a state that allows this action */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      422: components['responses']['JsonTooDeep'];
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  pause_execution_api_v1_executions__execution_id__pause_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Parent execution UUID or tag */
        execution_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Paused */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionDetail'];
        };
      };
      /** @description Accepted; the workflow has not applied it yet */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionDetail'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description Not a replay, or finished */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      422: components['responses']['JsonTooDeep'];
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  replay_execution_api_v1_executions__execution_id__replay_post: {
    parameters: {
      query?: never;
      header?: {
        /** @description Retry-safe key: the same key and body return the same execution */
        'idempotency-key'?: string;
      };
      path: {
        /** @description Parent execution UUID or tag */
        execution_id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ExecutionReplayRequest'];
      };
    };
    responses: {
      /** @description Successful Response */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ReplayExecutionResponse'];
        };
      };
      /** @description Invalid route, stage or from_path, or a canary whose route has no output_stage */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description Conflict (tag taken, Idempotency-Key reused with another body) */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      415: components['responses']['UnsupportedMediaType'];
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  preview_replay_api_v1_executions__execution_id__replay_preview_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Parent execution UUID or tag */
        execution_id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ExecutionReplayRequest'];
      };
    };
    responses: {
      /** @description Counted: the preview is final */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ReplayPreview'];
        };
      };
      /** @description Still counting: a preview job goes on; `Location` is its status URL */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ReplayPreview'];
        };
      };
      /** @description Invalid route, stage or from_path, or a canary whose route has no output_stage */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description The tag is taken (the replay would be refused) */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      415: components['responses']['UnsupportedMediaType'];
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  list_execution_replays_api_v1_executions__execution_id__replays_get: {
    parameters: {
      query?: {
        /** @description next_cursor of the previous page */
        cursor?: string;
        limit?: number;
      };
      header?: never;
      path: {
        /** @description Parent execution UUID or tag */
        execution_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of replays */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionReplayPage'];
        };
      };
      401: components['responses']['Unauthorized'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  resume_execution_api_v1_executions__execution_id__resume_post: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Parent execution UUID or tag */
        execution_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The execution after the action */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionResponse'];
        };
      };
      /** @description Accepted; the workflow has not applied it yet */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ExecutionResponse'];
        };
      };
      401: components['responses']['Unauthorized'];
      403: components['responses']['Forbidden'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description The execution is not in a state that allows this action */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      413: components['responses']['PayloadTooLarge'];
      422: components['responses']['JsonTooDeep'];
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  get_replay_preview_api_v1_replay_previews__preview_id__get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A preview job */
        preview_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The preview */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ReplayPreview'];
        };
      };
      401: components['responses']['Unauthorized'];
      /** @description Resource not found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
      /** @description Validation Error */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HTTPValidationError'];
        };
      };
      429: components['responses']['RateLimited'];
      /** @description Temporal or Postgres unavailable or refusing the call (SERVICE_UNAVAILABLE), or the service past its capacity (OVERLOADED); `Retry-After` says when to try again */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponse'];
        };
      };
    };
  };
  healthz_healthz_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Alive */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {string} */
            status: 'ok';
          };
        };
      };
    };
  };
  readyz_readyz_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Ready */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            components: {
              [key: string]: {
                detail?: string;
                /** @enum {string} */
                status: 'ok' | 'unavailable';
              };
            };
            /** @enum {string} */
            status: 'ok' | 'unavailable';
          };
        };
      };
      /** @description A dependency is unreachable (named in components; the cause is in the api's log under the answer's X-Correlation-ID), or the api is shutting down (component `api`) */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            components: {
              [key: string]: {
                detail?: string;
                /** @enum {string} */
                status: 'ok' | 'unavailable';
              };
            };
            /** @enum {string} */
            status: 'ok' | 'unavailable';
          };
        };
      };
    };
  };
}
