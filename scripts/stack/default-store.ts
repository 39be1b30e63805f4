/**
 * The S3 store `npm run dev` starts when no S3_ENDPOINT is given, and the bench measures as the
 * store a new user meets: versitygw (built with Go once, like the Temporal CLI), which lists a
 * 1,000,000-object stage as fast as the benchmarks do, in `<data>/versitygw`; s3rver in `<data>/s3`
 * where versitygw cannot be had (no Go) or DEV_S3_STORE=s3rver asks for it (it reads the whole stage
 * folder on every call: fine for a few thousand objects, slow past tens of thousands).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ManagedProcess } from './managed-process.ts';
import { startS3Server } from './s3-server.ts';
import { findVersityGw, startVersityGw } from './versitygw.ts';

export type EmbeddedStoreKind = 'versitygw' | 's3rver';

export interface EmbeddedStore {
  kind: EmbeddedStoreKind;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** versitygw: the folder holding a folder per bucket (objects can be written there directly). */
  directory?: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startDefaultStore(options: {
  port: number;
  /** Where the store keeps its objects: `<dataDir>/versitygw` or `<dataDir>/s3`. */
  dataDir: string;
  logFile: string;
  log: (line: string) => void;
  /** DEV_S3_STORE: `versitygw` (the default) or `s3rver`. */
  asked?: string;
}): Promise<EmbeddedStore> {
  const asked = options.asked || 'versitygw';
  if (asked !== 'versitygw' && asked !== 's3rver') {
    throw new Error(`DEV_S3_STORE must be versitygw or s3rver, not ${JSON.stringify(asked)}`);
  }
  const binary = asked === 'versitygw' ? await findVersityGw(options.log) : undefined;
  if (binary) {
    const server = await startVersityGw({
      binary,
      port: options.port,
      directory: path.join(options.dataDir, 'versitygw'),
      logFile: options.logFile,
    });
    return { kind: 'versitygw', ...server };
  }
  if (asked === 'versitygw')
    options.log('versitygw unavailable: the store is s3rver (slow past tens of thousands of objects)');
  const directory = path.join(options.dataDir, 's3');
  await mkdir(directory, { recursive: true });
  const server = await startS3Server({ port: options.port, directory, logFile: options.logFile });
  return { kind: 's3rver', ...server };
}
