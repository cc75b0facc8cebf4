// Any S3-compatible service. Uploads go through a multipart upload that is completed only when
// every byte arrived (aborted otherwise), so an object exists under its key only when whole.
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { Readable } from "node:stream";
import { pastGrace, type ByteRange, type Storage, type StoredObjectInfo } from "./types";

export interface S3Location {
  bucket: string;
  prefix: string;
  config: S3ClientConfig;
}

/** `s3://[key:secret@]bucket[/prefix]?endpoint=...&region=...&forcePathStyle=true` */
export function parseS3Url(url: string): S3Location {
  const u = new URL(url);
  const params = u.searchParams;
  const credentials =
    u.username && u.password
      ? { accessKeyId: decodeURIComponent(u.username), secretAccessKey: decodeURIComponent(u.password) }
      : undefined;
  return {
    bucket: u.hostname,
    prefix: u.pathname.replace(/^\/+/, "").replace(/\/*$/, u.pathname.length > 1 ? "/" : ""),
    config: {
      region: params.get("region") ?? "us-east-1",
      endpoint: params.get("endpoint") ?? undefined,
      forcePathStyle: params.get("forcePathStyle") === "true",
      credentials,
      // Many S3-compatible servers do not understand the SDK's newer default checksum trailers.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    },
  };
}

const isNotFound = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404;
};

export function createS3Storage(url: string): Storage {
  const { bucket, prefix, config } = parseS3Url(url);
  const client = new S3Client(config);
  const fullKey = (key: string) => `${prefix}${key}`;

  return {
    kind: "s3",
    async put(key, body, options = {}) {
      let size = 0;
      body.on("data", (chunk: Buffer) => (size += chunk.length));
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: fullKey(key), Body: body, ContentType: options.contentType },
        queueSize: 2,
        partSize: 8 * 1024 * 1024,
        leavePartsOnError: false,
      });
      await upload.done();
      return { size };
    },
    async get(key, range?: ByteRange) {
      const result = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: fullKey(key),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return result.Body as Readable;
    },
    async stat(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: fullKey(key) }));
        return { size: head.ContentLength ?? 0 };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: fullKey(key) }));
    },
    async *list(): AsyncIterable<StoredObjectInfo> {
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) {
          if (!object.Key) continue;
          yield {
            key: object.Key.slice(prefix.length),
            size: object.Size ?? 0,
            lastModified: object.LastModified ?? new Date(0),
          };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    removeEmptyFolder: () => Promise.resolve(),
    async sweepTemporaries(olderThanMs) {
      let removed = 0;
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      do {
        const page = await client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: prefix || undefined,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
        for (const upload of page.Uploads ?? []) {
          if (upload.Initiated && pastGrace(upload.Initiated.getTime(), olderThanMs)) {
            await client.send(
              new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
            );
            removed++;
          }
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
      return removed;
    },
    async ping() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return true;
      } catch {
        return false;
      }
    },
    close() {
      client.destroy();
      return Promise.resolve();
    },
  };
}
