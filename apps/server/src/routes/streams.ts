import type { Readable } from "node:stream";

/**
 * A web stream that reads the next chunk only when the HTTP layer asks for one
 * (highWaterMark 0): with the node-server adapter waiting for 'drain', a slow client holds the
 * read back, so memory stays flat whatever the size. (Readable.toWeb on Node 20 reads ahead.)
 */
export function pullStream(readable: Readable): ReadableStream<Uint8Array> {
  const chunks = readable[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next: IteratorResult<Buffer> = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
        } catch (error) {
          controller.error(error);
        }
      },
      cancel() {
        readable.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
