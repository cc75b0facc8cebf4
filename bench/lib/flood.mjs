// A sign-in flood in its own process (as a real flood comes from elsewhere), so the client that
// measures latency is not slowed by the one that floods. Args: url email password seconds.
import { cannon } from "./notebox.mjs";

const [url, email, password, seconds] = process.argv.slice(2);
let n = 0;
const result = await cannon({
  url: `${url}/api/v1/trpc/auth.login`,
  method: "POST",
  connections: 32,
  duration: Number(seconds),
  headers: { "content-type": "application/json" },
  requests: [
    {
      // TRUST_PROXY is on: every request claims another address, as a botnet's would, so the
      // per-address limit does not turn the flood away and the hashing itself is exercised.
      setupRequest: (req) => {
        n++;
        return {
          ...req,
          headers: { ...req.headers, "x-forwarded-for": `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` },
          body: JSON.stringify({ email, password }),
        };
      },
    },
  ],
});
process.stdout.write(
  JSON.stringify({
    rps: result.requests.average,
    codes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([c, s]) => [c, s.count])),
  }),
);
