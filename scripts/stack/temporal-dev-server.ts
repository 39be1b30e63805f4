import { Connection } from '@temporalio/client';
import { searchAttributeNames } from '../../workflows/search-attributes.ts';
import { startManagedProcess, type ManagedProcess } from './managed-process.ts';
import { sleep } from '../../adapters/sleep.ts';

export interface TemporalDevServer {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  binary: string;
  port: number;
  /** Omit for a headless server (tests). */
  uiPort?: number;
  /** SQLite file: the state survives restarts of the server. */
  dbFile: string;
  logFile: string;
  namespace?: string;
  startTimeoutMs?: number;
}

/** Starts `temporal server start-dev` with our search attributes and waits until it serves gRPC. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const namespace = options.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    namespace,
    '--db-filename',
    options.dbFile,
    '--log-level',
    'warn',
    // eager activity dispatch: an activity scheduled by a workflow task goes straight back to the
    // worker that completed it, saving a matching round trip per replay step
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // a write-ahead log synced at checkpoints rather than at every commit: the file-backed SQLite
    // otherwise waits on an fsync per transaction, which capped a trivial workflow near 10 starts/s
    // here; the data still survives a crash of the process
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...searchAttributeNames.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
  ];
  if (options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));

  const process = startManagedProcess('temporal', options.binary, args, { logFile: options.logFile });
  const address = `127.0.0.1:${options.port}`;
  // a server that never became ready is stopped, or it would hold its port for the next start
  await waitUntilServing(address, namespace, process, options.startTimeoutMs ?? 60_000).catch(
    async (error) => {
      await process.stop();
      throw error;
    },
  );
  return {
    address,
    namespace,
    uiUrl: options.uiPort === undefined ? undefined : `http://127.0.0.1:${options.uiPort}`,
    process,
    stop: () => process.stop(),
  };
}

async function waitUntilServing(
  address: string,
  namespace: string,
  process: ManagedProcess,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void process.exited.then(() => (exited = true));
  let lastError: unknown;
  while (Date.now() < deadline && !exited) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await sleep(200);
    }
  }
  throw new Error(
    `Temporal dev server at ${address} did not become ready (${exited ? 'it exited' : 'timed out'}): ${String(lastError)}`,
  );
}
