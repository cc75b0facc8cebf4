// A real S3-compatible server on loopback (s3rver), so tests run the S3 driver over HTTP: this
// package's own, and the server's file tests (imported there as "@notebox/storage/testing").
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- s3rver ships no types; the declaration must travel with this file into every project that compiles it
/// <reference path="./s3rver.d.ts" />
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";

export interface TestS3 {
  /** A STORAGE_URL for the bucket. */
  url: string;
  /** Where s3rver keeps the objects. */
  directory: string;
  close(): Promise<void>;
}

export async function startS3(bucket = "notebox"): Promise<TestS3> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "notebox-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = await server.run();
  return {
    url: `s3://S3RVER:S3RVER@${bucket}?endpoint=http://127.0.0.1:${port}&region=us-east-1&forcePathStyle=true`,
    directory,
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
