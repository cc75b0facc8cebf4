// The baseline for bench/upload: a bare node:http server that parses the multipart body with
// busboy (the same copy Notebox uses) and writes each file part to a file in DIR, then answers
// 201. `?fsync=1` also fsyncs the file before answering, as Notebox does for durability;
// `?hash=1` also computes the sha256 of the bytes on the way, as Notebox does for the ETag.
// Usage: node upload-baseline.mjs PORT DIR   (prints "ready" when listening)
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const busboy = createRequire(path.join(root, "packages/core/package.json"))("busboy");
const [port, dir] = process.argv.slice(2);

const server = http.createServer((req, res) => {
  const params = new URL(req.url, "http://x").searchParams;
  const fsync = params.get("fsync") === "1";
  const hash = params.get("hash") === "1";
  const parser = busboy({ headers: req.headers });
  const writes = [];
  parser.on("file", (_field, stream) => {
    const target = path.join(dir, randomBytes(8).toString("hex"));
    if (hash) {
      const sha = createHash("sha256");
      stream.on("data", (chunk) => sha.update(chunk));
      stream.on("end", () => sha.digest("hex"));
    }
    writes.push(
      pipeline(stream, createWriteStream(target)).then(async () => {
        if (fsync) {
          const handle = await open(target, "r+");
          await handle.sync();
          await handle.close();
        }
        return target;
      }),
    );
  });
  parser.on("close", async () => {
    try {
      const files = await Promise.all(writes);
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ files }));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  parser.on("error", (error) => res.writeHead(400).end(String(error)));
  req.pipe(parser);
});
server.listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
