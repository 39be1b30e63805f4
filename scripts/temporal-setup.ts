/**
 * `npm run temporal:setup`: registers the service's search attributes (workflows/search-attributes.ts,
 * all Keyword) on the Temporal cluster of TEMPORAL_ADDRESS, namespace TEMPORAL_NAMESPACE. Safe to run
 * again: attributes that exist already are left as they are. The dev server (`npm run dev`, the
 * tests) registers them at start; production clusters need this once per namespace.
 */
import { pathToFileURL } from 'node:url';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { searchAttributeNames } from '../workflows/search-attributes.ts';

const { temporal } = proto;
const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
// gRPC ALREADY_EXISTS: another run registered it between our listing and our call
const ALREADY_EXISTS = 6;

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
  const address = process.env.TEMPORAL_ADDRESS || 'localhost:7233';
  const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
  const log = (line: string) => process.stdout.write(`${line}\n`);
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 10_000 });
    const { added, existing } = await registerSearchAttributes(connection, namespace, log);
    log(
      `search attributes ready on ${address}, namespace ${namespace}: ${added.length} added, ${existing.length} already there`,
    );
  } catch (error) {
    process.stderr.write(
      `temporal:setup failed on ${address}, namespace ${namespace}: ${(error as Error).message}\n`,
    );
    process.exitCode = 1;
  } finally {
    await connection?.close();
  }
}
