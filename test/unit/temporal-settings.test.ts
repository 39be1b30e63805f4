import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../adapters/config.ts';
import {
  clientConnectionOptions,
  describeTemporalTarget,
  nativeConnectionOptions,
  temporalSettingsFromEnv,
  TemporalSettingError,
} from '../../adapters/temporal-connection.ts';
import { makeTemporalCerts, type TemporalCerts } from '../../scripts/stack/temporal-certs.ts';

const minimal = { DATABASE_URL: 'postgres://u:p@localhost:5432/db', S3_BUCKET: 'outputs' };

let dir: string;
let certs: TemporalCerts;
let other: TemporalCerts;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'temporal-settings-'));
  certs = await makeTemporalCerts(path.join(dir, 'a'));
  other = await makeTemporalCerts(path.join(dir, 'b'));
  await writeFile(path.join(dir, 'not-a-cert.pem'), 'hello\n');
  await writeFile(
    path.join(dir, 'temporal.toml'),
    [
      '[profile.default]',
      'address = "default.example:7233"',
      '[profile.prod]',
      'address = "prod.example:7233"',
      'namespace = "replays"',
      '[profile.prod.tls]',
      `client_cert_path = "${certs.clientCert}"`,
      `client_key_path = "${certs.clientKey}"`,
      `server_ca_cert_path = "${certs.caCert}"`,
      '[profile.halfcert.tls]',
      `client_cert_path = "${certs.clientCert}"`,
      '',
    ].join('\n'),
  );
  await writeFile(path.join(dir, 'broken.toml'), '[profile.default\naddress = ');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mtls = () => ({
  TEMPORAL_ADDRESS: 'temporal.internal:7233',
  TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
});

describe('Temporal connection settings (@temporalio/envconfig)', () => {
  it('defaults to a plaintext localhost:7233, namespace default', () => {
    const settings = temporalSettingsFromEnv({});
    expect(settings).toEqual({ address: 'localhost:7233', namespace: 'default' });
    const config = parseConfig(minimal);
    expect([config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE]).toEqual(['localhost:7233', 'default']);
    expect(clientConnectionOptions(config.temporal)).toEqual({ address: 'localhost:7233' });
  });

  it('turns TLS on with an API key (Temporal Cloud), and never logs the key', () => {
    const settings = temporalSettingsFromEnv({
      TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'replays.a1b2c',
      TEMPORAL_API_KEY: 'secret-key',
    });
    expect(nativeConnectionOptions(settings)).toEqual({
      address: 'us-east-1.aws.api.temporal.io:7233',
      apiKey: 'secret-key',
      tls: {},
    });
    expect(describeTemporalTarget(settings)).toBe(
      'us-east-1.aws.api.temporal.io:7233 (namespace replays.a1b2c, TLS + API key)',
    );
  });

  it('reads mTLS files from variables', () => {
    const settings = temporalSettingsFromEnv({ ...mtls(), TEMPORAL_TLS_SERVER_NAME: 'temporal' });
    expect(settings.tls?.clientCertPair?.crt.toString()).toContain('BEGIN CERTIFICATE');
    expect(settings.tls?.serverRootCACertificate?.toString()).toContain('BEGIN CERTIFICATE');
    expect(settings.tls?.serverName).toBe('temporal');
    expect(describeTemporalTarget(settings)).toContain('mTLS');
  });

  it('reads a profile of TEMPORAL_CONFIG_FILE, overridden by the variables, as the CLI does', () => {
    const file = path.join(dir, 'temporal.toml');
    expect(temporalSettingsFromEnv({ TEMPORAL_CONFIG_FILE: file }).address).toBe('default.example:7233');
    const prod = temporalSettingsFromEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    expect([prod.address, prod.namespace]).toEqual(['prod.example:7233', 'replays']);
    expect(prod.tls?.clientCertPair).toBeDefined();
    const overridden = temporalSettingsFromEnv({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
    });
    expect(overridden.address).toBe('127.0.0.1:7233');
    expect(overridden.tls?.clientCertPair).toBeDefined();
  });

  it.each([
    [
      () => ({ TEMPORAL_CONFIG_FILE: path.join(dir, 'missing.toml') }),
      'TEMPORAL_CONFIG_FILE cannot be read (ENOENT',
    ],
    [() => ({ TEMPORAL_CONFIG_FILE: path.join(dir, 'broken.toml') }), 'TEMPORAL_CONFIG_FILE:'],
    [
      () => ({ TEMPORAL_CONFIG_FILE: path.join(dir, 'temporal.toml'), TEMPORAL_PROFILE: 'staging' }),
      'TEMPORAL_PROFILE names profile "staging", which',
    ],
    [
      () => ({ TEMPORAL_CONFIG_FILE: path.join(dir, 'temporal.toml'), TEMPORAL_PROFILE: 'halfcert' }),
      'tls.client_cert_path of profile "halfcert"',
    ],
    [() => ({ TEMPORAL_TLS: 'yes' }), 'TEMPORAL_TLS must be true, false, 1 or 0'],
    [() => ({ TEMPORAL_ADDRESS: 'temporal.internal' }), 'TEMPORAL_ADDRESS must be host:port'],
    [
      () => ({ ...mtls(), TEMPORAL_TLS_CLIENT_KEY_PATH: undefined }),
      'TEMPORAL_TLS_CLIENT_CERT_PATH is set without its key',
    ],
    [
      () => ({ ...mtls(), TEMPORAL_TLS_CLIENT_CERT_PATH: undefined }),
      'TEMPORAL_TLS_CLIENT_KEY_PATH is set without its certificate',
    ],
    [
      () => ({ ...mtls(), TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'nope.pem') }),
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH cannot be read (ENOENT',
    ],
    [
      () => ({ ...mtls(), TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'not-a-cert.pem') }),
      'TEMPORAL_TLS_CLIENT_CERT_PATH is not a PEM certificate',
    ],
    [
      () => ({ ...mtls(), TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientCert }),
      'TEMPORAL_TLS_CLIENT_KEY_PATH is not a PEM private key',
    ],
    [
      () => ({ ...mtls(), TEMPORAL_TLS_CLIENT_KEY_PATH: other.clientKey }),
      'TEMPORAL_TLS_CLIENT_KEY_PATH is not the key of the certificate',
    ],
    [
      () => ({ ...mtls(), TEMPORAL_TLS: 'false' }),
      'TEMPORAL_TLS_CLIENT_CERT_PATH is set but TEMPORAL_TLS turns TLS off',
    ],
    [
      () => ({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }),
      'TEMPORAL_API_KEY would go to temporal.internal:7233 in plaintext',
    ],
  ])('refuses a contradiction or an unreadable file, naming the setting (%#)', (env, message) => {
    expect(() => temporalSettingsFromEnv(env())).toThrow(TemporalSettingError);
    expect(() => temporalSettingsFromEnv(env())).toThrow(message);
    const clean = Object.fromEntries(Object.entries(env()).filter(([, value]) => value !== undefined));
    expect(() => parseConfig({ ...minimal, ...clean })).toThrow(ConfigError);
    expect(() => parseConfig({ ...minimal, ...clean })).toThrow(`configuration error: ${message}`);
  });

  it('takes an API key without TLS on a loopback address only (a local proxy)', () => {
    const settings = temporalSettingsFromEnv({
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_API_KEY: 'k',
      TEMPORAL_TLS: 'false',
    });
    expect(settings.tls).toBeUndefined();
    expect(describeTemporalTarget(settings)).toContain('plaintext + API key');
  });

  it('stops a process at start with exit code 2 and one line naming the setting', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'worker.ts'], {
      env: {
        PATH: process.env.PATH,
        ...minimal,
        TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'gone.key'),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      `configuration error: TEMPORAL_TLS_CLIENT_KEY_PATH cannot be read (ENOENT: ${path.join(dir, 'gone.key')})`,
    ]);
  });
});
