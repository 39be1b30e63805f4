/**
 * Every Temporal connection of the service (api, both worker roles, temporal:setup, the demo, the
 * bench) comes from here, built from Temporal's own environment configuration
 * (`@temporalio/envconfig`): the names the `temporal` CLI and every SDK read (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_*, TEMPORAL_PROFILE,
 * TEMPORAL_CONFIG_FILE), so one profile serves the service and the CLI. The settings are checked once
 * at start: a contradiction or an unreadable file is a TemporalSettingError naming the setting.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import {
  loadClientConfigProfile,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/** Temporal's environment configuration, as the `temporal` CLI and the SDKs read it. */
export const temporalVariables = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;

/** The TEMPORAL_* variables of a parsed configuration, for a child process that connects to the same cluster. */
export function temporalEnvOf(config: Partial<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(
    temporalVariables.flatMap((name) => (typeof config[name] === 'string' ? [[name, config[name]]] : [])),
  );
}

/** A bad Temporal setting; its message starts with the setting's name (or the profile key it came from). */
export class TemporalSettingError extends Error {}

export interface TemporalTls {
  serverName?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

/** One resolved Temporal target: where, which namespace, and how the connection authenticates. */
export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  apiKey?: string;
  /** undefined: plaintext. */
  tls?: TemporalTls;
  metadata?: Record<string, string>;
  /** The profile read from a config file, if any (for logs): `name (file)`. */
  profile?: string;
}

const TLS_FLAG = /^(true|false|1|0)$/;
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+):\d{1,5}$/;

function readSource(source: ConfigDataSource, setting: string): Buffer {
  if ('data' in source) return Buffer.from(source.data);
  try {
    return readFileSync(source.path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TemporalSettingError(`${setting} cannot be read (${code}: ${source.path})`);
  }
}

/**
 * Resolves the Temporal settings of an environment as the `temporal` CLI does: the profile
 * (TEMPORAL_PROFILE, else `default`) of the config file (TEMPORAL_CONFIG_FILE, else
 * ~/.config/temporalio/temporal.toml, if there is one), overridden by the TEMPORAL_* variables.
 */
export function temporalSettingsFromEnv(env: Record<string, string | undefined>): TemporalConnectionSettings {
  const vars = Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
  const tlsFlag = vars.TEMPORAL_TLS;
  if (tlsFlag !== undefined && !TLS_FLAG.test(tlsFlag))
    throw new TemporalSettingError('TEMPORAL_TLS must be true, false, 1 or 0');

  let configSource: ConfigDataSource | undefined;
  const configFile = vars.TEMPORAL_CONFIG_FILE;
  if (configFile !== undefined) {
    // envconfig takes a missing file for no file; a file named on purpose must exist
    configSource = { data: readSource({ path: configFile }, 'TEMPORAL_CONFIG_FILE').toString('utf8') };
  }
  const fileName = configFile ?? 'the Temporal config file (~/.config/temporalio/temporal.toml)';
  const profileName = vars.TEMPORAL_PROFILE ?? 'default';
  let fromFile: ClientConfigProfile;
  let merged: ClientConfigProfile;
  try {
    fromFile = loadClientConfigProfile({ configSource, overrideEnvVars: vars, disableEnv: true });
    merged = loadClientConfigProfile({ configSource, overrideEnvVars: vars });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    if (/Profile '.*' not found/.test(message ?? ''))
      throw new TemporalSettingError(
        `TEMPORAL_PROFILE names profile "${profileName}", which ${fileName} does not have`,
      );
    throw new TemporalSettingError(`TEMPORAL_CONFIG_FILE: ${fileName} cannot be parsed (${message})`);
  }
  // a value set by a variable is named by it; one from the file by its key in the profile
  const nameOf = (variable: string, key: string) =>
    vars[variable] !== undefined ? variable : `${key} of profile "${profileName}" in ${fileName}`;
  const fileHasProfile = Object.keys(fromFile).some(
    (key) => fromFile[key as keyof ClientConfigProfile] !== undefined,
  );

  const address = merged.address ?? DEFAULT_TEMPORAL_ADDRESS;
  if (!HOST_PORT.test(address))
    throw new TemporalSettingError(`${nameOf('TEMPORAL_ADDRESS', 'address')} must be host:port`);
  const namespace = merged.namespace ?? DEFAULT_TEMPORAL_NAMESPACE;
  const apiKey = merged.apiKey;
  const tlsConfig = merged.tls;

  const certName = nameOf('TEMPORAL_TLS_CLIENT_CERT_PATH', 'tls.client_cert_path');
  const keyName = nameOf('TEMPORAL_TLS_CLIENT_KEY_PATH', 'tls.client_key_path');
  const caName = nameOf('TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'tls.server_ca_cert_path');
  const serverNameName = nameOf('TEMPORAL_TLS_SERVER_NAME', 'tls.server_name');
  const tlsName = nameOf('TEMPORAL_TLS', 'tls.disabled');

  if (tlsConfig?.disabled) {
    const given = (
      [
        [tlsConfig.clientCert, certName],
        [tlsConfig.clientKey, keyName],
        [tlsConfig.serverCACert, caName],
        [tlsConfig.serverName, serverNameName],
      ] as const
    ).find(([value]) => value !== undefined);
    if (given) throw new TemporalSettingError(`${given[1]} is set but ${tlsName} turns TLS off`);
    if (apiKey !== undefined && !isLoopback(address))
      throw new TemporalSettingError(
        `${nameOf('TEMPORAL_API_KEY', 'api_key')} would go to ${address} in plaintext: ${tlsName} turns TLS off (only a loopback address may take a key without TLS)`,
      );
  }
  if (tlsConfig?.clientCert && !tlsConfig.clientKey)
    throw new TemporalSettingError(`${certName} is set without its key (TEMPORAL_TLS_CLIENT_KEY_PATH)`);
  if (tlsConfig?.clientKey && !tlsConfig.clientCert)
    throw new TemporalSettingError(
      `${keyName} is set without its certificate (TEMPORAL_TLS_CLIENT_CERT_PATH)`,
    );

  let tls: TemporalTls | undefined;
  if (tlsConfig && !tlsConfig.disabled) {
    tls = {};
    if (tlsConfig.serverName) tls.serverName = tlsConfig.serverName;
    if (tlsConfig.serverCACert) {
      const ca = readSource(tlsConfig.serverCACert, caName);
      parseCertificate(ca, caName);
      tls.serverRootCACertificate = ca;
    }
    if (tlsConfig.clientCert && tlsConfig.clientKey) {
      const crt = readSource(tlsConfig.clientCert, certName);
      const key = readSource(tlsConfig.clientKey, keyName);
      const certificate = parseCertificate(crt, certName);
      let privateKey;
      try {
        privateKey = createPrivateKey(key);
      } catch {
        throw new TemporalSettingError(`${keyName} is not a PEM private key`);
      }
      if (!certificate.checkPrivateKey(privateKey))
        throw new TemporalSettingError(`${keyName} is not the key of the certificate in ${certName}`);
      tls.clientCertPair = { crt, key };
    }
  } else if (!tlsConfig && apiKey !== undefined) {
    // an API key implies TLS (Temporal Cloud), as in the SDKs and the CLI
    tls = {};
  }
  return {
    address,
    namespace,
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(tls ? { tls } : {}),
    ...(merged.grpcMeta ? { metadata: merged.grpcMeta } : {}),
    ...(fileHasProfile ? { profile: `${profileName} (${fileName})` } : {}),
  };
}

function parseCertificate(pem: Buffer, setting: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TemporalSettingError(`${setting} is not a PEM certificate`);
  }
}

function hostOf(address: string): string {
  const host = address.slice(0, address.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

function isLoopback(address: string): boolean {
  const host = hostOf(address);
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** How the connection authenticates, for logs: never the key or a certificate. */
export function describeTemporalTarget(settings: TemporalConnectionSettings): string {
  const security = settings.tls?.clientCertPair
    ? 'mTLS'
    : settings.tls
      ? settings.apiKey !== undefined
        ? 'TLS + API key'
        : 'TLS'
      : settings.apiKey !== undefined
        ? 'plaintext + API key'
        : 'plaintext';
  return `${settings.address} (namespace ${settings.namespace}, ${security})`;
}

/** `@temporalio/client` Connection options. */
export function clientConnectionOptions(
  settings: TemporalConnectionSettings,
  extra: Pick<ConnectionOptions, 'connectTimeout'> = {},
): ConnectionOptions {
  return {
    address: settings.address,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
    ...(settings.metadata ? { metadata: settings.metadata } : {}),
    ...extra,
  };
}

/** `@temporalio/worker` NativeConnection options. */
export function nativeConnectionOptions(settings: TemporalConnectionSettings): NativeConnectionOptions {
  return {
    address: settings.address,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
    ...(settings.metadata ? { metadata: settings.metadata } : {}),
  };
}

/** A connection that could not be made: the target, and the cause the TLS handshake or the server gave. */
export class TemporalConnectError extends Error {}

/**
 * Connects within timeoutMs, or throws a TemporalConnectError saying why. gRPC reports a refused
 * TLS handshake only as a missed deadline; the handshake is then tried once more by hand, so the
 * error carries its real cause (no client certificate, an unknown CA, a wrong server name).
 */
export async function connectTemporal<T extends { close(): Promise<void> }>(
  settings: TemporalConnectionSettings,
  connect: () => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const attempt = connect();
  try {
    return await Promise.race([
      attempt,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    // a connection that arrives after we gave up is closed, not leaked
    void attempt.then((late) => late.close()).catch(() => {});
    const cause = (settings.tls && (await tlsHandshakeFailure(settings))) || (error as Error).message;
    throw new TemporalConnectError(
      `Temporal at ${describeTemporalTarget(settings)} refused the connection: ${cause}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** The client connection (api, scripts, bench), connected within timeoutMs. */
export function connectTemporalClient(
  settings: TemporalConnectionSettings,
  timeoutMs = 10_000,
): Promise<Connection> {
  return connectTemporal(
    settings,
    () => Connection.connect(clientConnectionOptions(settings, { connectTimeout: timeoutMs })),
    timeoutMs,
  );
}

/** Which setting to look at for a handshake's failure, by what OpenSSL or Node said. */
const HANDSHAKE_HINTS: [RegExp, string][] = [
  [
    /certificate required/i,
    'the server wants a client certificate: TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH',
  ],
  [
    /unknown ca|bad certificate|certificate unknown/i,
    'the server does not accept the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH)',
  ],
  [
    /self.signed|unable to (verify|get local issuer)|UNABLE_TO_VERIFY/i,
    "the server's certificate is not signed by TEMPORAL_TLS_SERVER_CA_CERT_PATH (or a system root)",
  ],
  [
    /ALTNAME|does not match|Hostname\/IP/i,
    "the server's certificate does not carry TEMPORAL_TLS_SERVER_NAME (or the address's host)",
  ],
  [/wrong version number|packet length too long/i, 'the server does not speak TLS (TEMPORAL_TLS)'],
];

function handshakeCause(error: NodeJS.ErrnoException): string {
  // OpenSSL's errors carry the reason between colons: "...:ssl3_read_bytes:tlsv13 alert certificate required:..."
  const reason = /routines:[^:]*:([^:]+):/.exec(error.message)?.[1] ?? error.message;
  const hint = HANDSHAKE_HINTS.find(([pattern]) => pattern.test(`${error.message} ${error.code ?? ''}`));
  return `TLS handshake failed: ${reason}${hint ? ` (${hint[1]})` : ''}`;
}

/** The cause of a failed TLS handshake with the settings' certificates, or undefined if it succeeds. */
export function tlsHandshakeFailure(
  settings: TemporalConnectionSettings,
  timeoutMs = 5000,
): Promise<string | undefined> {
  const tls = settings.tls ?? {};
  const serverName = tls.serverName ?? hostOf(settings.address);
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: hostOf(settings.address),
      port: portOf(settings.address),
      ...(serverName && !isIP(serverName) ? { servername: serverName } : {}),
      ALPNProtocols: ['h2'],
      ...(tls.serverRootCACertificate ? { ca: tls.serverRootCACertificate } : {}),
      ...(tls.clientCertPair ? { cert: tls.clientCertPair.crt, key: tls.clientCertPair.key } : {}),
    });
    const done = (cause: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(cause);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', (error: NodeJS.ErrnoException) => done(handshakeCause(error)));
    // with TLS 1.3 the server refuses a client certificate after the client's side finished:
    // its alert arrives as an error shortly after secureConnect
    socket.on('secureConnect', () => {
      clearTimeout(timer);
      setTimeout(() => done(undefined), 1000);
    });
    socket.resume();
  });
}
