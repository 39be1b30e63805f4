/**
 * `npm run temporal:setup`: registers the namespace when the cluster does not have it yet (a
 * self-hosted cluster; Temporal Cloud's exist already) and the service's search attributes
 * (workflows/search-attributes.ts, all Keyword), on the Temporal cluster of the TEMPORAL_* settings
 * (adapters/temporal-connection.ts: address, namespace, API key or mTLS, profile). Safe to run again:
 * what exists already is left as it is. The dev server (`npm run dev`, the tests) registers them at
 * start; production clusters need this once per namespace.
 */
import { pathToFileURL } from 'node:url';
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import proto from '@temporalio/proto';
import { ConfigError } from '../adapters/config.ts';
import {
  TemporalSettingError,
  connectTemporalClient,
  describeTemporalTarget,
  temporalSettingsFromEnv,
} from '../adapters/temporal-connection.ts';
import { searchAttributeNames } from '../workflows/search-attributes.ts';

const { temporal } = proto;
const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
// gRPC ALREADY_EXISTS: another run registered it between our listing and our call
const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;
/** How long a namespace registered here keeps closed workflows. */
const NAMESPACE_RETENTION = '3 days';

/** Registers the namespace if the cluster does not know it; true when it did. */
export async function ensureNamespace(
  connection: Connection,
  namespace: string,
  log: (line: string) => void = () => {},
): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (error) {
    if ((error as { code?: unknown }).code !== NOT_FOUND) throw error;
  }
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(NAMESPACE_RETENTION),
    });
  } catch (error) {
    if ((error as { code?: unknown }).code !== ALREADY_EXISTS) throw error;
    return false;
  }
  log(`registered namespace ${namespace}`);
  return true;
}

export interface SetupResult {
  added: string[];
  existing: string[];
}

const typeName = (value: unknown): string =>
  typeof value === 'number'
    ? (temporal.api.enums.v1.IndexedValueType[value] ?? String(value))
    : String(value);

/** Adds the missing search attributes; throws when one exists with another type than Keyword. */
export async function registerSearchAttributes(
  connection: Connection,
  namespace: string,
  log: (line: string) => void = () => {},
): Promise<SetupResult> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const custom = (listed.customAttributes ?? {}) as Record<string, unknown>;
  const system = (listed.systemAttributes ?? {}) as Record<string, unknown>;
  const result: SetupResult = { added: [], existing: [] };
  for (const name of searchAttributeNames) {
    if (name in system) throw new Error(`search attribute ${name} is a reserved system attribute`);
    const current = custom[name];
    if (current === undefined) continue;
    if (typeName(current) !== typeName(KEYWORD)) {
      throw new Error(`search attribute ${name} exists with type ${typeName(current)}, not Keyword`);
    }
    result.existing.push(name);
  }
  for (const name of searchAttributeNames.filter((item) => !result.existing.includes(item))) {
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: { [name]: KEYWORD },
      });
      result.added.push(name);
      log(`added ${name} (Keyword)`);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== ALREADY_EXISTS && !/already exists/i.test((error as Error).message)) throw error;
      result.existing.push(name);
    }
  }
  for (const name of result.existing) log(`exists ${name}`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let settings;
  try {
    settings = temporalSettingsFromEnv(process.env);
  } catch (error) {
    if (!(error instanceof TemporalSettingError)) throw error;
    process.stderr.write(`${new ConfigError(`configuration error: ${error.message}`).message}\n`);
    process.exit(2);
  }
  const { namespace } = settings;
  const target = describeTemporalTarget(settings);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  let connection: Connection | undefined;
  try {
    connection = await connectTemporalClient(settings, 10_000);
    await ensureNamespace(connection, namespace, log);
    const { added, existing } = await registerSearchAttributes(connection, namespace, log);
    log(
      `search attributes ready on ${settings.address}, namespace ${namespace}: ${added.length} added, ${existing.length} already there (${target})`,
    );
  } catch (error) {
    process.stderr.write(`temporal:setup failed on ${target}: ${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await connection?.close();
  }
}
