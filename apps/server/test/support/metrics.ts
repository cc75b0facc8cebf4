// /metrics from a test server: it is served on the main port only behind a bearer token, so a
// test that reads it starts its server with `metricsEnv` and scrapes with the same token.
export const METRICS_TOKEN = "test-metrics-token-0123456789";

/** Environment for startTestServer that serves /metrics on the main port. */
export const metricsEnv = { METRICS_TOKEN } as const;

/** The Prometheus text of the server at `base` (its main URL, or the METRICS_PORT listener's). */
export async function scrapeMetrics(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return res.text();
}
