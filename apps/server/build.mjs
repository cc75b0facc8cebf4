// Bundles the server and the workspace packages it uses into dist/; npm dependencies stay
// external (native modules, dynamic requires) unless the copy a workspace package would load is
// not the one dist/ would find (a version nested under that package), in which case it is bundled.
// `node build.mjs --bench` also builds dist/bench-entry.js, the same server with the extra routes
// and switches the benchmarks use; the production build (and the image) leaves it out.
import { copyFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const outdir = fileURLToPath(new URL("dist", import.meta.url));

/** The directory of the package `name` as Node would find it from `dir`. */
function packageDir(dir, name) {
  for (let d = dir; ; d = path.dirname(d)) {
    const candidate = path.join(d, "node_modules", name, "package.json");
    if (existsSync(candidate)) return path.dirname(candidate);
    if (d === path.dirname(d)) return null;
  }
}

const packageName = (specifier) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");

await build({
  entryPoints: ["src/cli.ts", ...(process.argv.includes("--bench") ? ["src/bench-entry.ts"] : [])],
  outdir,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
  banner: {
    js: "import { createRequire as __nbCreateRequire } from 'node:module'; const require = __nbCreateRequire(import.meta.url);",
  },
  plugins: [
    {
      name: "externalize-npm-dependencies",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith("@notebox/") || args.path.startsWith("node:")) return undefined;
          const name = packageName(args.path);
          const wanted = packageDir(args.resolveDir, name);
          const found = packageDir(outdir, name);
          return wanted && found && wanted !== found ? undefined : { path: args.path, external: true };
        });
      },
    },
  ],
});

// Files the bundle reads next to itself, as the sources read them next to themselves: the SQLite
// driver's worker thread and the common-password list.
for (const file of ["packages/db/src/sqlite/sqlite-worker.cjs", "packages/core/src/common-passwords.txt"]) {
  copyFileSync(fileURLToPath(new URL(`../../${file}`, import.meta.url)), path.join(outdir, path.basename(file)));
}
