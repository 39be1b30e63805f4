import { existsSync, readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { parseConfig, requiredVariables } from '../adapters/config.ts';
import { searchAttributes } from '../workflows/search-attributes.ts';

/** Static checks of the container deployment: docker-compose.yml and the Dockerfile. No Docker needed. */

const root = new URL('../', import.meta.url);

type Environment = Record<string, string | number | boolean | null> | string[];

interface ComposeService {
  image?: string;
  command?: string | string[];
  ports?: string[];
  profiles?: string[];
  build?: unknown;
  environment?: Environment;
  depends_on?: string[] | Record<string, unknown>;
  volumes?: string[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8'), {
  merge: true,
}) as ComposeFile;
const services = Object.entries(compose.services);
const appServices = services.filter(([, service]) => service.build !== undefined);

/** A reference is pinned when it has a digest, or a tag (a `:` after the last `/`) other than `latest`. */
function isPinned(reference: string): boolean {
  if (reference.includes('@sha256:')) return true;
  const lastSegment = reference.slice(reference.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  if (colon === -1) return false;
  const tag = lastSegment.slice(colon + 1);
  return tag !== '' && tag !== 'latest';
}

/** What a deployer puts in the shell or `.env` for `docker compose up` (compose interpolates it). */
const DEPLOYER_ENV: Record<string, string> = { API_KEYS: `ops:${'ab'.repeat(32)}` };

/** Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` interpolation, from DEPLOYER_ENV. */
function interpolate(value: string): string {
  return value.replace(
    /\$\{(\w+)(?::([-?])([^}]*))?\}/g,
    (_match, name: string, kind?: string, rest?: string) => {
      const given = DEPLOYER_ENV[name];
      if (given) return given;
      if (kind === '-') return rest ?? '';
      throw new Error(`compose would refuse: ${name} is not set (${rest ?? ''})`);
    },
  );
}

/** Compose accepts `KEY: value` maps and `KEY=VALUE` lists; values reach the process as strings. */
function environmentOf(service: ComposeService): Record<string, string> {
  return Object.fromEntries(
    Object.entries(rawEnvironmentOf(service)).map(([name, value]) => [name, interpolate(value)]),
  );
}

function rawEnvironmentOf(service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment
        .filter((entry) => entry.includes('='))
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );
  }
  return Object.fromEntries(
    Object.entries(environment)
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([name, value]) => [name, String(value)]),
  );
}

function dependenciesOf(service: ComposeService): string[] {
  const dependsOn = service.depends_on ?? [];
  return Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn);
}

describe('docker-compose.yml', () => {
  it('has the three app services built from the Dockerfile', () => {
    expect(appServices.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'worker']);
  });

  it('pins every image to an explicit tag', () => {
    const images = services.filter(([, service]) => service.image !== undefined);
    expect(images.length).toBeGreaterThan(0);
    const unpinned = images
      .filter(([, service]) => !isPinned(service.image!))
      .map(([name, service]) => `${name}: ${service.image}`);
    expect(unpinned).toEqual([]);
  });

  it.each(appServices.map(([name, service]) => [name, service] as const))(
    '%s sets every required variable and a valid configuration',
    (_name, service) => {
      const environment = environmentOf(service);
      expect(requiredVariables.length).toBeGreaterThan(0);
      const missing = requiredVariables.filter((name) => !environment[name]);
      expect(missing).toEqual([]);
      expect(() => parseConfig(environment)).not.toThrow();
    },
  );

  it('makes the api refuse to start without API keys from the deployer', () => {
    const api = compose.services.api!;
    expect(rawEnvironmentOf(api).API_KEYS).toMatch(/^\$\{API_KEYS:\?/);
    expect(parseConfig(environmentOf(api)).API_KEYS).toBeDefined();
  });

  it('has an optional kafka profile whose broker the app services reach with ROUTE_TRANSPORT=kafka', () => {
    const kafka = compose.services.kafka!;
    expect(kafka.profiles).toEqual(['kafka']);
    // without the profile nothing depends on it: `docker compose up` runs on pg-boss
    expect(services.filter(([, service]) => dependenciesOf(service).includes('kafka'))).toEqual([]);
    for (const [, service] of appServices) {
      const environment = environmentOf(service);
      expect(environment.ROUTE_TRANSPORT).toBe('pgboss');
      const config = parseConfig({ ...environment, ROUTE_TRANSPORT: 'kafka' });
      expect(config.KAFKA_BROKERS).toEqual(['kafka:9092']);
    }
    expect(rawEnvironmentOf(kafka).KAFKA_ADVERTISED_LISTENERS).toBe('PLAINTEXT://kafka:9092');
  });

  it('registers every search attribute of workflows/search-attributes.ts, with its type', () => {
    const command = [compose.services['temporal-admin-tools']!.command ?? []].flat().join(' ');
    const registered = Object.fromEntries(
      [...command.matchAll(/--name (\w+) --type (\w+)/g)].map((match) => [match[1], match[2]]),
    );
    // the SDK's KEYWORD is the CLI's Keyword
    const used = Object.fromEntries(
      Object.values(searchAttributes).map((key) => [
        key.name,
        key.type.charAt(0) + key.type.slice(1).toLowerCase(),
      ]),
    );
    expect(registered).toEqual(used);
  });

  it("binds Temporal's gRPC port and UI to 127.0.0.1 only", () => {
    for (const name of ['temporal', 'temporal-ui']) {
      const ports = compose.services[name]!.ports ?? [];
      expect(ports.length, name).toBeGreaterThan(0);
      for (const port of ports) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('runs the api and the worker as the app role of docs/least-privilege.sql, with S3 keys of their own', () => {
    const superuser = environmentOf(compose.services.postgresql!).POSTGRES_USER;
    const minio = environmentOf(compose.services.minio!);
    const userOf = (url: string) => new URL(url).username;
    for (const name of ['api', 'worker']) {
      const environment = environmentOf(compose.services[name]!);
      expect(userOf(environment.DATABASE_URL!), name).toBe('replay_app');
      expect(userOf(environment.DATABASE_URL!), name).not.toBe(superuser);
      // a schema of its own, as docs/least-privilege.sql asks
      expect(environment.DATABASE_SCHEMA, name).toBe('replay');
      expect(environment.S3_ACCESS_KEY_ID, name).not.toBe(minio.MINIO_ROOT_USER);
      expect(environment.S3_SECRET_ACCESS_KEY, name).not.toBe(minio.MINIO_ROOT_PASSWORD);
    }
    // the owner migrates, then gets the app role its grants; the roles come from the documented script
    expect(userOf(environmentOf(compose.services.migrate!).DATABASE_URL!)).toBe('replay_owner');
    const grants = compose.services['db-grants']!;
    expect(environmentOf(grants).PGUSER).toBe('replay_owner');
    expect(dependenciesOf(compose.services.api!)).toContain('db-grants');
    for (const name of ['db-setup', 'db-grants'])
      expect(compose.services[name]!.volumes, name).toContain(
        './docs/least-privilege.sql:/least-privilege.sql:ro',
      );
    // the app's MinIO user is made with a policy of its own
    const setup = [compose.services['minio-setup']!.command ?? []].flat().join('\n');
    expect(setup).toMatch(/mc admin user add replay "\$\$S3_APP_ACCESS_KEY_ID"/);
    expect(environmentOf(compose.services['minio-setup']!).S3_APP_ACCESS_KEY_ID).toBe(
      environmentOf(compose.services.api!).S3_ACCESS_KEY_ID,
    );
  });

  it('names only existing services in depends_on', () => {
    const names = new Set(Object.keys(compose.services));
    const unknown = services.flatMap(([name, service]) =>
      dependenciesOf(service)
        .filter((dependency) => !names.has(dependency))
        .map((dependency) => `${name} -> ${dependency}`),
    );
    expect(unknown).toEqual([]);
  });
});

/** The entry files of the production build the app services run (`node dist/...`). */
const COMPILED_ENTRIES = ['api/main.js', 'worker.js', 'scripts/migrate.js'];

describe('the app services run the production build', () => {
  const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
  const defaultCommand = JSON.parse(/^CMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1] ?? '[]') as string[];

  it.each(appServices.map(([name, service]) => [name, service] as const))(
    '%s runs node on a compiled entry, never tsx',
    (_name, service) => {
      const command = ((service as { command?: string[] }).command ?? defaultCommand) as string[];
      expect(command[0]).toBe('node');
      const entry = command[1]!.replace(/^dist\//, '');
      expect(COMPILED_ENTRIES).toContain(entry);
      // the compiled file's source is one the build compiles
      expect(existsSync(new URL(entry.replace(/\.js$/, '.ts'), root))).toBe(true);
    },
  );

  it('builds dist/ in the image with npm run build, and runs no TypeScript', () => {
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(defaultCommand).toEqual(['node', 'dist/api/main.js']);
    const instructions = dockerfile.split('\n').filter((line) => !line.trim().startsWith('#'));
    expect(instructions.filter((line) => /tsx/.test(line))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  it('runs on a Node.js LTS line still supported (even major, 22 or later)', () => {
    const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
    const majors = [...dockerfile.matchAll(/^FROM\s+node:(\d+)/gim)].map((match) => Number(match[1]));
    expect(majors.length).toBeGreaterThan(0);
    for (const major of majors) {
      expect(major % 2, `node ${major}`).toBe(0);
      expect(major, `node ${major}`).toBeGreaterThanOrEqual(22);
    }
  });

  it('pins every FROM image', () => {
    const stages = new Set<string>();
    const unpinned: string[] = [];
    const lines = readFileSync(new URL('Dockerfile', root), 'utf8').split('\n');
    const froms = lines.map((line) => line.trim()).filter((line) => /^FROM\s/i.test(line));
    expect(froms.length).toBeGreaterThan(0);
    for (const line of froms) {
      // FROM [--platform=...] <image> [AS <stage>]
      const words = line
        .split(/\s+/)
        .slice(1)
        .filter((word) => !word.startsWith('--'));
      const [reference, as, stage] = words;
      if (reference === undefined) {
        unpinned.push(line);
        continue;
      }
      if (!stages.has(reference) && !isPinned(reference)) unpinned.push(line);
      if (as?.toLowerCase() === 'as' && stage !== undefined) stages.add(stage);
    }
    expect(unpinned).toEqual([]);
  });
});
