// Files on local disk: written to a temporary name in the same directory tree, fsynced, then
// renamed into place, so a reader or a crash never sees half a file under its real key.
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { pastGrace, type ByteRange, type Storage, type StoredObjectInfo } from "./types";

const TEMP_DIR = ".tmp";

export function createLocalStorage(root: string): Storage {
  const base = path.resolve(root);
  const tempDir = path.join(base, TEMP_DIR);

  const pathOf = (key: string) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(key) || key.includes(".."))
      throw new Error(`invalid storage key: ${key}`);
    return path.join(base, key);
  };

  async function fsyncDir(dir: string) {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  return {
    kind: "file",
    async put(key, body) {
      const target = pathOf(key);
      await mkdir(tempDir, { recursive: true });
      await mkdir(path.dirname(target), { recursive: true });
      const temp = path.join(tempDir, `${Date.now()}-${randomBytes(8).toString("hex")}`);
      try {
        const out = createWriteStream(temp, { flags: "wx", mode: 0o600 });
        await pipeline(body, out);
        const handle = await open(temp, "r+");
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, target);
        await fsyncDir(path.dirname(target));
        return { size: (await stat(target)).size };
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },
    async get(key, range?: ByteRange) {
      const file = pathOf(key);
      await stat(file); // ENOENT surfaces here rather than as a stream error mid-response
      return createReadStream(file, range ? { start: range.start, end: range.end } : {});
    },
    async stat(key) {
      try {
        return { size: (await stat(pathOf(key))).size };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
    },
    async delete(key) {
      try {
        await unlink(pathOf(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    },
    async removeEmptyFolder(prefix) {
      try {
        await rmdir(pathOf(prefix));
      } catch (error) {
        if (!["ENOENT", "ENOTEMPTY", "EEXIST"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
      }
    },
    async *list(): AsyncIterable<StoredObjectInfo> {
      async function* walk(dir: string): AsyncIterable<StoredObjectInfo> {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
          throw error;
        }
        for (const entry of entries) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) {
            if (full !== tempDir) yield* walk(full);
          } else if (entry.isFile()) {
            const info = await stat(full);
            yield {
              key: path.relative(base, full).split(path.sep).join("/"),
              size: info.size,
              lastModified: info.mtime,
            };
          }
        }
      }
      yield* walk(base);
    },
    async sweepTemporaries(olderThanMs) {
      let removed = 0;
      let names: string[];
      try {
        names = await readdir(tempDir);
      } catch {
        return 0;
      }
      for (const name of names) {
        const full = path.join(tempDir, name);
        const info = await stat(full).catch(() => null);
        if (info && pastGrace(info.mtimeMs, olderThanMs)) {
          await rm(full, { force: true });
          removed++;
        }
      }
      return removed;
    },
    async ping() {
      try {
        await mkdir(base, { recursive: true });
        return true;
      } catch {
        return false;
      }
    },
    close: () => Promise.resolve(),
  };
}
