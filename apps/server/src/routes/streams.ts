// Response bodies streamed at the pace the client reads them: file downloads and note exports.
import type { Readable } from "node:stream";

/** One chunk at a time from a Node stream or a web stream, and a way to stop it. */
interface ChunkSource {
  read(): Promise<Uint8Array | null>;
  cancel(reason: unknown): void | Promise<void>;
}

function nodeSource(readable: Readable): ChunkSource {
  const chunks = readable[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return {
    async read() {
      const next: IteratorResult<Buffer> = await chunks.next();
      return next.done ? null : new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    },
    cancel() {
      readable.destroy();
    },
  };
}

function webSource(stream: ReadableStream<Uint8Array>): ChunkSource {
  const reader = stream.getReader();
  return {
    async read() {
      const next = await reader.read();
      return next.done ? null : next.value;
    },
    cancel: (reason) => reader.cancel(reason),
  };
}

/**
 * A web stream that reads the next chunk only when the HTTP layer asks for one
 * (highWaterMark 0): with the node-server adapter waiting for 'drain', a slow client holds the
 * read back, so memory stays flat whatever the size. (Readable.toWeb on Node 20 reads ahead.)
 */
export function pullStream(source: Readable | ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const chunks = source instanceof ReadableStream ? webSource(source) : nodeSource(source);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const chunk = await chunks.read();
          if (chunk !== null) controller.enqueue(chunk);
          else controller.close();
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel(reason) {
        await chunks.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
