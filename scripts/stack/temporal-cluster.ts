/**
 * A production-shaped Temporal cluster for the stack (`npm run dev -- --temporal cluster`, the
 * cluster tests): the Temporal server (go.temporal.io/server v1.29.1, scripts/temporal-server-binary.ts)
 * on Postgres persistence, in databases of its own on the stack's Postgres with the schema set up by
 * its SQL tool; frontend, history, matching and worker as four processes; mTLS on the frontend with
 * a CA and certificates made by openssl at start; the dynamic config the dev server gets.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  connectTemporalClient,
  temporalSettingsFromEnv,
  type TemporalConnectionSettings,
} from '../../adapters/temporal-connection.ts';
import { ensureNamespace, registerSearchAttributes } from '../temporal-setup.ts';
import type { TemporalServerBinaries } from '../temporal-server-binary.ts';
import { freePort, waitForPort } from './free-port.ts';
import { startManagedProcess, type ManagedProcess } from './managed-process.ts';
import { makeTemporalCerts, type TemporalCerts } from './temporal-certs.ts';

const execFileAsync = promisify(execFile);

export const CLUSTER_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ClusterServiceName = (typeof CLUSTER_SERVICES)[number];

export interface TemporalClusterOptions {
  binaries: TemporalServerBinaries;
  /** Holds the config and the certificates (kept across starts). */
  dir: string;
  /** Where the services' logs go (`temporal-<service>.log`); default: dir. */
  logDir?: string;
  /** A Postgres URL whose user may create databases (the stack's embedded Postgres). */
  postgresUrl: string;
  /** The cluster's databases: `<databasePrefix>` and `<databasePrefix>_visibility`. */
  databasePrefix?: string;
  frontendPort: number;
  namespace?: string;
  /** Connections each service keeps to its main database. */
  maxConnections?: number;
  startTimeoutMs?: number;
  log?: (line: string) => void;
  /** A Temporal UI in front of the frontend (over mTLS, with the client certificate), on 127.0.0.1. */
  ui?: { binary: string; port: number };
}

export interface ClusterService {
  name: ClusterServiceName;
  logFile: string;
  process(): ManagedProcess;
  /** SIGKILL, and resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts the service again (after kill or a crash). */
  restart(): void;
}

export interface TemporalCluster {
  address: string;
  namespace: string;
  certs: TemporalCerts;
  /** The TEMPORAL_* variables of a client with the stack's client certificate. */
  env: Record<string, string>;
  settings: TemporalConnectionSettings;
  services: Record<ClusterServiceName, ClusterService>;
  /** `<dir>/temporal.toml`: the same connection as a profile, for the `temporal` CLI and the service. */
  configFile: string;
  uiUrl: string | undefined;
  /** The UI server's process, when there is one. */
  ui: ManagedProcess | undefined;
  stop(): Promise<void>;
}

/** What `temporal server start-dev` sets (the CLI's defaults, and scripts/stack/temporal-dev-server.ts's). */
const DYNAMIC_CONFIG: Record<string, unknown> = {
  // an activity scheduled by a workflow task goes straight back to the worker that completed it
  'system.enableActivityEagerExecution': true,
  // search attributes visible at once after registration (the CLI's dev-server default) ...
  'system.forceSearchAttributesCacheRefreshOnRead': true,
  // ... with the persistence rates it raises to match
  'frontend.persistenceMaxQPS': 10000,
  'history.persistenceMaxQPS': 45000,
  'history.hostLevelCacheMaxSize': 8096,
  'frontend.namespaceRPS.visibility': 100,
  // a namespace registered at start is known to every service within a second, not ten
  'system.namespaceCacheRefreshInterval': '1s',
};

async function sqlTool(binaries: TemporalServerBinaries, connect: string[], args: string[]): Promise<void> {
  await execFileAsync(binaries.sql, [...connect, ...args], { timeout: 120_000 }).catch((error: Error) => {
    throw new Error(`temporal sql tool ${args.join(' ')} failed: ${error.message}`);
  });
}

/** Creates the database if missing and brings its schema to the server's version with the SQL tool. */
async function prepareDatabase(
  options: TemporalClusterOptions,
  database: string,
  schemaName: string,
): Promise<void> {
  const url = new URL(options.postgresUrl);
  const admin = new pg.Client({ connectionString: options.postgresUrl });
  await admin.connect();
  let fresh = false;
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
      fresh = true;
    }
  } finally {
    await admin.end();
  }
  const connect = [
    '--plugin',
    'postgres12',
    '--endpoint',
    url.hostname,
    '--port',
    url.port || '5432',
    '--user',
    decodeURIComponent(url.username),
    '--password',
    decodeURIComponent(url.password),
    '--database',
    database,
  ];
  // setup-schema makes the version tables once; update-schema applies every version after it
  if (fresh) await sqlTool(options.binaries, connect, ['setup-schema', '-v', '0.0']);
  await sqlTool(options.binaries, connect, ['update-schema', '--schema-name', schemaName]);
}

function serverConfig(
  options: TemporalClusterOptions,
  certs: TemporalCerts,
  ports: Record<string, number>,
  dynamicConfigFile: string,
): object {
  const url = new URL(options.postgresUrl);
  const database = options.databasePrefix ?? 'temporal';
  const store = (name: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: name,
      connectAddr: `${url.hostname}:${url.port || '5432'}`,
      connectProtocol: 'tcp',
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const maxConns = options.maxConnections ?? 10;
  const service = (name: string) => ({
    rpc: {
      grpcPort: ports[`${name}Grpc`],
      membershipPort: ports[`${name}Membership`],
      bindOnLocalHost: true,
      ...(name === 'frontend' ? { httpPort: ports.frontendHttp } : {}),
    },
  });
  const client = { serverName: 'localhost', rootCaFiles: [certs.caCert] };
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        'postgres-default': store(database, maxConns),
        'postgres-visibility': store(`${database}_visibility`, 2),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      tls: {
        // mTLS on the frontend: only clients with a certificate of the stack's CA get in
        frontend: {
          server: {
            certFile: certs.serverCert,
            keyFile: certs.serverKey,
            requireClientAuth: true,
            clientCaFiles: [certs.caCert],
          },
          client,
        },
        // the worker service's system workflows reach the frontend as a client, with a certificate
        systemWorker: { certFile: certs.clientCert, keyFile: certs.clientKey, client },
      },
    },
    services: {
      frontend: service('frontend'),
      history: service('history'),
      matching: service('matching'),
      worker: service('worker'),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `localhost:${options.frontendPort}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

function dynamicConfigYaml(): string {
  // the dynamic config file's shape: key -> list of { value, constraints }
  return Object.entries(DYNAMIC_CONFIG)
    .map(([key, value]) => `${key}:\n  - value: ${JSON.stringify(value)}\n`)
    .join('');
}

function profileToml(address: string, namespace: string, certs: TemporalCerts): string {
  return [
    "# The stack's Temporal cluster: TEMPORAL_CONFIG_FILE=<this file> temporal workflow list",
    '[profile.default]',
    `address = "${address}"`,
    `namespace = "${namespace}"`,
    '[profile.default.tls]',
    `client_cert_path = "${certs.clientCert}"`,
    `client_key_path = "${certs.clientKey}"`,
    `server_ca_cert_path = "${certs.caCert}"`,
    'server_name = "localhost"',
    '',
  ].join('\n');
}

/** Starts the four services and waits until the namespace and the search attributes are ready. */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const log = options.log ?? (() => {});
  const namespace = options.namespace ?? 'default';
  const database = options.databasePrefix ?? 'temporal';
  await mkdir(path.join(options.dir, 'config'), { recursive: true });
  const certsDir = path.join(options.dir, 'certs');
  const certs = existsSync(path.join(certsDir, 'client.key'))
    ? certsIn(certsDir)
    : await makeTemporalCerts(certsDir);
  await Promise.all([
    prepareDatabase(options, database, 'postgresql/v12/temporal'),
    prepareDatabase(options, `${database}_visibility`, 'postgresql/v12/visibility'),
  ]);

  const ports: Record<string, number> = {
    frontendGrpc: options.frontendPort,
    frontendHttp: await freePort(),
  };
  for (const name of CLUSTER_SERVICES) {
    if (name !== 'frontend') ports[`${name}Grpc`] = await freePort();
    ports[`${name}Membership`] = await freeMembershipPort();
  }
  const dynamicConfigFile = path.join(options.dir, 'config', 'dynamicconfig.yaml');
  await writeFile(dynamicConfigFile, dynamicConfigYaml());
  // YAML is a superset of JSON: the config is written as JSON
  await writeFile(
    path.join(options.dir, 'config', 'development.yaml'),
    `${JSON.stringify(serverConfig(options, certs, ports, dynamicConfigFile), null, 2)}\n`,
  );

  const address = `127.0.0.1:${options.frontendPort}`;
  const env = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  };
  const configFile = path.join(options.dir, 'temporal.toml');
  await writeFile(configFile, profileToml(address, namespace, certs));
  const settings = temporalSettingsFromEnv(env);

  // history first: on a new database the first service writes the cluster's metadata, and two
  // doing it at once fail on its version check
  const services = {
    history: clusterService(options, 'history'),
  } as Record<ClusterServiceName, ClusterService>;
  let ui: ManagedProcess | undefined;
  const stop = async () => {
    // the frontend first, so that clients see it go before the services behind it
    for (const name of ['frontend', 'worker', 'matching', 'history'] as const)
      await services[name]?.process().stop(15_000);
  };
  try {
    await Promise.race([
      waitForPort('127.0.0.1', ports.historyGrpc!, options.startTimeoutMs ?? 120_000),
      services.history.process().exited.then(() => {
        throw new Error(`Temporal history service exited during start; see ${services.history.logFile}`);
      }),
    ]);
    for (const name of ['matching', 'frontend', 'worker'] as const)
      services[name] = clusterService(options, name);
    await waitUntilReady(settings, namespace, services, options.startTimeoutMs ?? 120_000, log);
    if (options.ui) ui = await startUi(options, options.ui, address, namespace, certs);
  } catch (error) {
    await stop();
    throw error;
  }
  const stopAll = async () => {
    await ui?.stop();
    await stop();
  };
  const uiUrl = options.ui ? `http://127.0.0.1:${options.ui.port}` : undefined;
  return { address, namespace, certs, env, settings, services, configFile, uiUrl, ui, stop: stopAll };
}

/** The Temporal UI server, configured to reach the frontend with the client certificate. */
async function startUi(
  options: TemporalClusterOptions,
  ui: { binary: string; port: number },
  address: string,
  namespace: string,
  certs: TemporalCerts,
): Promise<ManagedProcess> {
  const root = path.join(options.dir, 'ui');
  await mkdir(path.join(root, 'config'), { recursive: true });
  const config = {
    temporalGrpcAddress: address,
    host: '127.0.0.1',
    port: ui.port,
    enableUi: true,
    defaultNamespace: namespace,
    notifyOnNewVersion: false,
    cors: { cookieInsecure: true, allowOrigins: [`http://127.0.0.1:${ui.port}`] },
    tls: {
      caFile: certs.caCert,
      certFile: certs.clientCert,
      keyFile: certs.clientKey,
      serverName: 'localhost',
      enableHostVerification: true,
    },
  };
  await writeFile(path.join(root, 'config', 'development.yaml'), `${JSON.stringify(config, null, 2)}\n`);
  const logFile = path.join(options.logDir ?? options.dir, 'temporal-ui.log');
  const child = startManagedProcess(
    'temporal-ui',
    ui.binary,
    ['--root', root, '--config', 'config', '--env', 'development', 'start'],
    { logFile },
  );
  await Promise.race([
    waitForPort('127.0.0.1', ui.port, 30_000),
    child.exited.then(() => {
      throw new Error(`Temporal UI server exited during start; see ${logFile}`);
    }),
  ]).catch(async (error: unknown) => {
    await child.stop();
    throw error;
  });
  return child;
}

/**
 * A free port below 32768: the cluster_membership table keeps membership ports as a smallint, and
 * the kernel's ephemeral ports (what freePort gets) start at 32768.
 */
async function freeMembershipPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000 for a membership port');
}

function certsIn(dir: string): TemporalCerts {
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    caCert: file('ca.pem'),
    caKey: file('ca.key'),
    serverCert: file('frontend.pem'),
    serverKey: file('frontend.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
  };
}

function clusterService(options: TemporalClusterOptions, name: ClusterServiceName): ClusterService {
  const logFile = path.join(options.logDir ?? options.dir, `temporal-${name}.log`);
  const launch = () =>
    startManagedProcess(
      `temporal-${name}`,
      options.binaries.server,
      [
        '--root',
        options.dir,
        '--config',
        'config',
        '--env',
        'development',
        '--allow-no-auth',
        'start',
        '--service',
        name,
      ],
      { logFile },
    );
  let current = launch();
  return {
    name,
    logFile,
    process: () => current,
    async kill() {
      try {
        process.kill(-current.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await current.exited;
    },
    restart() {
      current = launch();
    },
  };
}

/**
 * Ready: the frontend answers over mTLS, the namespace exists (registered here on a new cluster) and
 * carries the service's search attributes, and the history service serves it (a workflow list).
 */
async function waitUntilReady(
  settings: TemporalConnectionSettings,
  namespace: string,
  services: Record<ClusterServiceName, ClusterService>,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const dead = CLUSTER_SERVICES.find((name) => services[name].process().child.exitCode !== null);
    if (dead) throw new Error(`Temporal ${dead} service exited during start; see ${services[dead].logFile}`);
    try {
      const connection = await connectTemporalClient(settings, 5000);
      try {
        if (await ensureNamespace(connection, namespace)) log(`registered namespace ${namespace}`);
        await registerSearchAttributes(connection, namespace);
        await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(`Temporal cluster at ${settings.address} did not become ready: ${String(lastError)}`);
}
