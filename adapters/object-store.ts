import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AppConfig } from './config.ts';

/** What a replay message says about one stored object (docs/design.md section 5). */
export interface StoredObject {
  key: string;
  size: number;
  etag: string;
  last_modified: string;
}

export interface FolderListing {
  /** Full prefixes, each ending with `/`, in S3's order. */
  folders: string[];
  /** Objects directly under the prefix (not in a folder). */
  objects: number;
  complete: boolean;
}

export interface ListPage {
  objects: StoredObject[];
  /** The last key S3 returned (selected or not): the StartAfter of the next page. */
  lastKey: string | null;
  isTruncated: boolean;
}

export interface ObjectStoreOptions {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
  /** Bound on one request; the SDK's own retries stay off so callers (activities) own retrying. */
  requestTimeoutMs?: number;
  maxAttempts?: number;
}

export function objectStoreOptionsFromConfig(config: AppConfig): ObjectStoreOptions {
  return {
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    bucket: config.S3_BUCKET,
    prefix: config.S3_PREFIX,
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
  };
}

/**
 * A kept-alive connection the store closed while it sat idle: the request never reached the store,
 * so sending it once more, on a fresh connection, is safe for every call here (each is idempotent).
 */
export function isStaleConnection(error: unknown): boolean {
  const failure = error as { code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (failure?.$metadata?.httpStatusCode) return false; // the store answered
  return (
    failure?.code === 'ECONNRESET' ||
    failure?.code === 'EPIPE' ||
    /socket hang up/i.test(failure?.message ?? '')
  );
}

function isMissingBucket(error: unknown): boolean {
  const failure = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    failure?.name === 'NotFound' ||
    failure?.name === 'NoSuchBucket' ||
    failure?.$metadata?.httpStatusCode === 404
  );
}

export class ObjectStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;

  constructor(options: ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    const timeout = options.requestTimeoutMs ?? 30_000;
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      credentials:
        options.accessKeyId && options.secretAccessKey
          ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
          : undefined,
      maxAttempts: options.maxAttempts ?? 1,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: Math.min(timeout, 5000),
        requestTimeout: timeout,
      }),
    });
  }

  /** Makes one call, once more on a fresh connection when a kept-alive one turns out closed. */
  async #call<Output>(send: () => Promise<Output>): Promise<Output> {
    try {
      return await send();
    } catch (error) {
      if (!isStaleConnection(error)) throw error;
      return await send();
    }
  }

  /** One page of keys under keyPrefix, strictly after startAfter, in S3's (UTF-8 binary) order. */
  async listPage(keyPrefix: string, startAfter: string | null, maxKeys: number): Promise<ListPage> {
    const response = await this.#call(() =>
      this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: keyPrefix,
          StartAfter: startAfter ?? undefined,
          MaxKeys: maxKeys,
        }),
      ),
    );
    const objects = (response.Contents ?? []).map((item) => ({
      key: item.Key!,
      size: item.Size ?? 0,
      etag: (item.ETag ?? '').replaceAll('"', ''),
      last_modified: (item.LastModified ?? new Date(0)).toISOString(),
    }));
    return {
      objects,
      lastKey: objects.at(-1)?.key ?? null,
      isTruncated: Boolean(response.IsTruncated) && objects.length > 0,
    };
  }

  /**
   * The folders (common prefixes up to the next `/`) directly under keyPrefix, in one listing of up
   * to 1,000 entries; `complete` is false when the listing was cut off there.
   */
  async listFolders(keyPrefix: string): Promise<FolderListing> {
    const response = await this.#call(() =>
      this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: keyPrefix,
          Delimiter: '/',
          MaxKeys: 1000,
        }),
      ),
    );
    return {
      folders: (response.CommonPrefixes ?? []).map((entry) => entry.Prefix!).filter(Boolean),
      objects: response.Contents?.length ?? 0,
      complete: !response.IsTruncated,
    };
  }

  async hasAnyObject(keyPrefix: string): Promise<boolean> {
    const page = await this.listPage(keyPrefix, null, 1);
    return page.objects.length > 0;
  }

  async putObject(key: string, body: string | Uint8Array, contentType = 'application/json'): Promise<void> {
    await this.#call(() =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
      ),
    );
  }

  async getObjectText(key: string): Promise<string> {
    return await this.#call(async () => {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await response.Body?.transformToString('utf-8')) ?? '';
    });
  }

  async ping(): Promise<void> {
    await this.#call(() => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  /** Creates the bucket when HeadBucket says it is missing (404); any other failure is thrown as it is. */
  async ensureBucket(): Promise<void> {
    try {
      await this.ping();
      return;
    } catch (error) {
      // denied, unreachable, throttled: creating would hide the real fault behind CreateBucket's answer
      if (!isMissingBucket(error)) throw error;
    }
    await this.client
      .send(new CreateBucketCommand({ Bucket: this.bucket }))
      .catch((error: { name?: string }) => {
        if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
      });
  }

  close(): void {
    this.client.destroy();
  }
}
