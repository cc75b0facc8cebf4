// Bundles the server and the workspace packages it uses into dist/; npm dependencies stay external.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli.ts"],
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
  banner: { js: "import { createRequire as __nbCreateRequire } from 'node:module'; const require = __nbCreateRequire(import.meta.url);" },
  plugins: [
    {
      name: "externalize-npm-dependencies",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith("@notebox/") ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
