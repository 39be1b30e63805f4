import type pg from 'pg';
import type { ObjectStore } from '../../adapters/object-store.ts';

/** Writes a row to Postgres and an object to S3; answers which worker did it. */
export function createSmokeActivities(deps: { pool: pg.Pool; objectStore: ObjectStore; workerName: string }) {
  return {
    async writeMarker(name: string): Promise<string> {
      await deps.pool.query(
        'CREATE TABLE IF NOT EXISTS smoke_markers (name text PRIMARY KEY, worker text NOT NULL)',
      );
      await deps.pool.query(
        'INSERT INTO smoke_markers (name, worker) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [name, deps.workerName],
      );
      await deps.objectStore.putObject(
        `${deps.objectStore.prefix}smoke/${name}.json`,
        JSON.stringify({ name }),
      );
      return deps.workerName;
    },
  };
}

export type SmokeActivities = ReturnType<typeof createSmokeActivities>;
