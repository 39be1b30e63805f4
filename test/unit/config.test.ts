import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, parseConfig, requiredVariables } from '../../adapters/config.ts';

const minimal = { DATABASE_URL: 'postgres://u:p@localhost:5432/db', S3_BUCKET: 'outputs' };

describe('configuration from the environment', () => {
  it('requires only the database and the bucket', () => {
    expect(requiredVariables).toEqual(['DATABASE_URL', 'S3_BUCKET']);
    const config = parseConfig(minimal);
    expect(config.TEMPORAL_ADDRESS).toBe('localhost:7233');
    expect(config.REPLAY_PAGE_SIZE).toBe(5000);
  });

  it.each([
    [{}, 'configuration error: DATABASE_URL is required'],
    [{ ...minimal, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a postgres:// or postgresql:// URL'],
    [{ ...minimal, API_PORT: 'eighty' }, 'API_PORT'],
    [{ ...minimal, REPLAY_PAGE_SIZE: '20000' }, 'REPLAY_PAGE_SIZE'],
    [{ ...minimal, S3_PREFIX: '/abs/' }, 'S3_PREFIX'],
    [{ ...minimal, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ...minimal, WORKER_METRICS_PORT: 'nine' }, 'WORKER_METRICS_PORT must be a port number'],
    [{ ...minimal, WORKER_METRICS_PORT: '70000' }, 'WORKER_METRICS_PORT must be a port number'],
    [{ ...minimal, RECONCILER_SCHEDULE: 'yes' }, 'RECONCILER_SCHEDULE'],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  it('holds the worker-only settings: metrics port, timeouts, the reconciler schedule', () => {
    const config = parseConfig({ ...minimal, WORKER_METRICS_PORT: '0' });
    expect(config.WORKER_METRICS_PORT).toBe(0);
    expect(parseConfig(minimal).WORKER_METRICS_PORT).toBeUndefined();
    expect([config.WORKER_DATABASE_TIMEOUT_MS, config.WORKER_S3_TIMEOUT_MS]).toEqual([60_000, 30_000]);
    expect(config.RECONCILER_SCHEDULE).toBe(true);
  });

  it('is listed in the README, every variable', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## The api'));
    const listed = new Set([...table.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]));
    expect(Object.keys(configSchema.shape).filter((name) => !listed.has(name))).toEqual([]);
  });

  it('makes a process exit with code 2 and one line', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'worker.ts'], {
      env: { PATH: process.env.PATH, DATABASE_URL: 'nope', S3_BUCKET: 'outputs' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      'configuration error: DATABASE_URL must be a postgres:// or postgresql:// URL',
    ]);
  });
});
