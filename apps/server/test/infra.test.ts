// No Docker engine runs where the tests do, so the deployment files are checked against what the
// app itself accepts: their environment passes the configuration schema, the ports and probe
// paths are the ones the server serves, and the container runs the command the tests run.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@notebox/config";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { testDb } from "./support/env";

const infra = fileURLToPath(new URL("../../../infra/", import.meta.url));
const read = (file: string) => readFileSync(path.join(infra, file), "utf8");

type Env = Record<string, string>;
interface Container {
  name: string;
  command?: string[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
}

describe.skipIf(testDb !== "sqlite")("deployment files", () => {
  it("compose: the app's environment passes the configuration schema, names every service it uses and keeps metrics on this host", () => {
    const compose = parse(read("compose.yaml")) as {
      services: Record<string, { environment?: Env; ports?: string[]; depends_on?: Record<string, unknown> }>;
    };
    const app = compose.services.notebox!;
    const env = { ...app.environment!, JWT_SECRET: "x".repeat(48) };
    const config = loadConfig(env);
    expect(config.nodeEnv).toBe("production");
    expect(config.databaseUrl).toMatch(/^mysql:\/\/.*@mysql:3306\//);
    expect(config.redisUrl).toBe("redis://redis:6379");
    expect(config.storageUrl).toMatch(/^s3:\/\/.*endpoint=http:\/\/minio:9000/);
    expect(config.smtpUrl).toBe("smtp://mailpit:1025");
    expect(app.ports).toContain(`${config.port}:${config.port}`);
    // Metrics on their own port, published to this host only.
    expect(config.metricsPort).toBeGreaterThan(0);
    expect(config.metricsHost).toBe("0.0.0.0");
    expect(app.ports!.filter((p) => p.endsWith(`:${config.metricsPort}`))).toEqual([
      `127.0.0.1:${config.metricsPort}:${config.metricsPort}`,
    ]);
    for (const service of ["mysql", "redis", "minio-bucket", "mailpit"]) expect(app.depends_on).toHaveProperty(service);
    // JWT_SECRET must come from the operator, never from the file.
    expect(app.environment!.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
  });

  it("Kubernetes: config map and secret together pass the schema; probes, ports, metrics scraping and command match the server", () => {
    const docs = ["configmap.yaml", "secret.example.yaml", "deployment.yaml", "service.yaml", "hpa.yaml"].flatMap((f) =>
      parseAllDocuments(read(`k8s/${f}`)).map(
        (d) => d.toJS() as { kind: string; data?: Env; stringData?: Env; spec: unknown },
      ),
    );
    const byKind = (kind: string) => docs.find((d) => d.kind === kind)!;
    const env = { ...byKind("ConfigMap").data, ...byKind("Secret").stringData };
    const config = loadConfig(env);
    expect(config.nodeEnv).toBe("production");

    const deployment = byKind("Deployment").spec as {
      replicas: number;
      template: {
        metadata: { annotations: Record<string, string> };
        spec: { containers: Container[]; initContainers: Container[]; securityContext: { runAsNonRoot: boolean } };
      };
    };
    expect(deployment.replicas).toBeGreaterThan(1);
    expect(deployment.template.spec.securityContext.runAsNonRoot).toBe(true);
    const [app] = deployment.template.spec.containers;
    expect(app!.command).toEqual(["node", "apps/server/dist/cli.js", "serve"]);
    expect(deployment.template.spec.initContainers[0]!.command).toEqual(["node", "apps/server/dist/cli.js", "migrate"]);
    expect(app!.ports).toEqual([
      { name: "http", containerPort: config.port },
      { name: "metrics", containerPort: config.metricsPort },
    ]);
    // Prometheus scrapes each pod on the metrics port, which listens on the pod's address.
    expect(config.metricsHost).toBe("0.0.0.0");
    expect(deployment.template.metadata.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(config.metricsPort),
      "prometheus.io/path": "/metrics",
    });
    expect(app!.readinessProbe!.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(app!.livenessProbe!.httpGet).toEqual({ path: "/healthz", port: "http" });
    const refs = app!.envFrom!.map((r) => r.configMapRef?.name ?? r.secretRef?.name);
    expect(refs).toEqual(["notebox", "notebox"]);

    const service = byKind("Service").spec as { ports: { targetPort: string }[] };
    // The Service, and so any ingress behind it, never carries the metrics.
    expect(service.ports.map((p) => p.targetPort)).toEqual(["http"]);
    const hpa = byKind("HorizontalPodAutoscaler").spec as { scaleTargetRef: { name: string }; minReplicas: number };
    expect(hpa.scaleTargetRef.name).toBe("notebox");
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
  });

  it("Dockerfile: builds in stages, runs as a non-root user with a health check, exposes the app and metrics ports, and starts `notebox serve`", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    const compose = parse(read("compose.yaml")) as { services: { notebox: { environment: Env } } };
    const exposed = /^EXPOSE (.+)$/m.exec(dockerfile)![1]!.split(/\s+/);
    const { PORT, METRICS_PORT } = compose.services.notebox.environment;
    expect(exposed).toEqual([PORT, METRICS_PORT]);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(dockerfile).toMatch(/^CMD \["node", "apps\/server\/dist\/cli.js", "serve"\]$/m);
  });
});
