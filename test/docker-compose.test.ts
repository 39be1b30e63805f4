import { existsSync, readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { parseConfig, requiredVariables } from '../adapters/config.ts';

/** Static checks of the container deployment: docker-compose.yml and the Dockerfile. No Docker needed. */

const root = new URL('../', import.meta.url);

type Environment = Record<string, string | number | boolean | null> | string[];

interface ComposeService {
  image?: string;
  profiles?: string[];
  build?: unknown;
  environment?: Environment;
  depends_on?: string[] | Record<string, unknown>;
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
