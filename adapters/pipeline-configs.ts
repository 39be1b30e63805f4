import type { Queryable } from './database.ts';
import type { OutputMatchRule } from '../domain/output-correspondence.ts';

export interface RouteDefinition {
  name: string;
  input_stage: string;
  output_stage: string | null;
  /** Messages per second every replay into this route shares, across workers; absent: unlimited. */
  max_messages_per_second?: number | null;
  /** Which outputs answer an input, for `select: missing_outputs`; absent: `stem`. */
  output_match?: OutputMatchRule;
}

export interface PipelineDefinition {
  stages: string[];
  routes: RouteDefinition[];
  entry_route: string;
}

export interface PipelineConfig extends PipelineDefinition {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

interface ConfigRow {
  id: string;
  name: string;
  definition: PipelineDefinition;
  created_at: Date;
  updated_at: Date;
}

function toConfig(row: ConfigRow): PipelineConfig {
  return {
    id: row.id,
    name: row.name,
    ...row.definition,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export async function insertPipelineConfig(
  db: Queryable,
  config: { id: string; name: string; definition: PipelineDefinition },
): Promise<PipelineConfig> {
  const result = await db.query<ConfigRow>(
    `INSERT INTO pipeline_configs (id, name, definition) VALUES ($1, $2, $3)
     RETURNING id, name, definition, created_at, updated_at`,
    [config.id, config.name, JSON.stringify(config.definition)],
  );
  return toConfig(result.rows[0]!);
}

/**
 * Configs found, by id: a config never changes once registered (there is no update), and its id is
 * a UUID v7 no other config has, so every replay start can skip the query. A config not found is
 * not remembered (it may be registered next).
 */
const knownConfigs = new Map<string, PipelineConfig>();
const MAX_KNOWN_CONFIGS = 10_000;

export async function getPipelineConfig(db: Queryable, id: string): Promise<PipelineConfig | undefined> {
  const known = knownConfigs.get(id);
  if (known) return known;
  const result = await db.query<ConfigRow>(
    'SELECT id, name, definition, created_at, updated_at FROM pipeline_configs WHERE id = $1',
    [id],
  );
  if (!result.rows[0]) return undefined;
  const config = toConfig(result.rows[0]);
  if (knownConfigs.size >= MAX_KNOWN_CONFIGS) knownConfigs.clear();
  knownConfigs.set(id, config);
  return config;
}

export function findRoute(config: PipelineDefinition, routeName: string): RouteDefinition | undefined {
  return config.routes.find((route) => route.name === routeName);
}

/**
 * The strictest `max_messages_per_second` any registered config sets for a route of this name
 * (null: none sets one). Routes of one name share a destination, so they share its limit.
 */
export async function strictestRouteLimit(db: Queryable, routeName: string): Promise<number | null> {
  const result = await db.query<{ strictest: number | null }>(
    `SELECT min((route->>'max_messages_per_second')::float8) AS strictest
       FROM pipeline_configs, jsonb_array_elements(definition->'routes') AS route
      WHERE route->>'name' = $1`,
    [routeName],
  );
  return result.rows[0]?.strictest ?? null;
}
