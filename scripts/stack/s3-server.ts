import { fileURLToPath } from 'node:url';
import { waitForPort } from './free-port.ts';
import { startManagedProcess, type ManagedProcess } from './managed-process.ts';

export interface S3ServerHandle {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** s3rver's fixed credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Starts the embedded S3-compatible store (s3rver) with its objects under directory. */
export async function startS3Server(options: {
  port: number;
  directory: string;
  logFile: string;
}): Promise<S3ServerHandle> {
  const script = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));
  const process = startManagedProcess(
    's3',
    globalThis.process.execPath,
    ['--openssl-legacy-provider', script, String(options.port), options.directory],
    { logFile: options.logFile },
  );
  await Promise.race([
    waitForPort('127.0.0.1', options.port, 30_000),
    process.exited.then((code) => {
      throw new Error(`s3rver exited with ${code} before listening; see ${options.logFile}`);
    }),
  ]).catch(async (error) => {
    await process.stop();
    throw error;
  });
  return {
    endpoint: `http://127.0.0.1:${options.port}`,
    ...S3RVER_CREDENTIALS,
    process,
    stop: () => process.stop(),
  };
}
