// `npm run bench`: builds the server (and its bench entry), then runs every benchmark and prints its figures.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
execFileSync("npx", ["turbo", "run", "build", "--filter=@notebox/server", "--output-logs=errors-only"], {
  stdio: "inherit",
});
// The server with the benchmarks' extra routes (dist/bench-entry.js), which the production build leaves out.
execFileSync("npm", ["run", "build:bench", "-w", "@notebox/server"], { stdio: "inherit" });
const benches = readdirSync(here).filter((f) => f.endsWith(".mjs") && f !== "run.mjs");
for (const file of benches) {
  if (only.length && !only.some((o) => file.startsWith(o))) continue;
  execFileSync(process.execPath, [`${here}${file}`], { stdio: "inherit" });
}
