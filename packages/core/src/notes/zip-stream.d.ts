// The part of zip-stream (4.x, untyped) that the .xlsx writer uses.
declare module "zip-stream" {
  import type { Readable, Transform } from "node:stream";
  import type { ZlibOptions } from "node:zlib";

  interface ZipStreamOptions {
    /** Passed to node:zlib's DeflateRaw for deflated entries. */
    zlib?: ZlibOptions;
    store?: boolean;
  }

  interface EntryData {
    name: string;
    date?: Date;
    /** Stored rather than deflated. */
    store?: boolean;
  }

  /** A zip archive as a readable stream of its bytes, written one entry at a time. */
  class ZipStream extends Transform {
    constructor(options?: ZipStreamOptions);
    /** Adds an entry; a stream source gets its CRC and sizes in a data descriptor after it. */
    entry(source: Buffer | string | Readable | null, data: EntryData, callback?: (error: Error | null) => void): this;
    /** Writes the central directory once the entry in progress has ended, then ends the stream. */
    finalize(): void;
  }

  export default ZipStream;
}
