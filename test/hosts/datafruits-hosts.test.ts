import assert from "node:assert/strict";
import { runSite } from "../programs/support/harness";
import { configFor } from "../programs/support/fixtures";
import {
  parseManifests,
  parseQuantity,
  podsOf,
  renderManifests,
  resolvePort,
  selects,
  type Manifest,
} from "./support/k8s-manifests";

// datafruits runs no host of its own: what it renders are Kubernetes objects. kubectl is installed
// but reads nothing without an API server, so the objects are checked as YAML the API server would
// decode: quantities by its grammar, probes and Services resolved against the pods' own ports.

const of = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);

describe("datafruits' Kubernetes objects, rendered and read back", function () {
  this.timeout(60_000);
  let objects: Manifest[];
  before(async () => {
    objects = parseManifests(renderManifests(await runSite(configFor("datafruits"))));
  });

  it("renders one well-formed YAML stream of every object", () => {
    assert.ok(of(objects, "Deployment").length === 9, "nine Deployments");
  });

  it("gives every container CPU and memory requests and a memory limit the scheduler can honour", () => {
    // Three s-2vcpu-4gb nodes keep about 1.9 vCPU and 3 GiB each for pods; every pod must fit on
    // two of them so a node can drain.
    let cpu = 0;
    let memory = 0;
    for (const d of of(objects, "Deployment")) {
      for (const c of podsOf(d).spec.containers) {
        const r = c.resources ?? {};
        assert.ok(r.requests?.cpu && r.requests?.memory, `${d.metadata.name}: no requests`);
        assert.ok(r.limits?.memory, `${d.metadata.name}: no memory limit`);
        const [reqMem, limMem] = [parseQuantity(r.requests.memory), parseQuantity(r.limits.memory)];
        assert.ok(limMem >= reqMem, `${d.metadata.name}: memory limit below its request`);
        cpu += parseQuantity(r.requests.cpu) * d.spec.replicas;
        memory += reqMem * d.spec.replicas;
      }
    }
    assert.ok(cpu <= 2 * 1.9, `requests ${cpu} vCPU do not fit two nodes`);
    assert.ok(memory <= 2 * 3 * 2 ** 30, `requests ${memory / 2 ** 30} GiB do not fit two nodes`);
  });

  it("probes every container that listens on a port it declares", () => {
    for (const d of of(objects, "Deployment")) {
      for (const c of podsOf(d).spec.containers) {
        if ((c.ports ?? []).length === 0) continue;
        for (const kind of ["readinessProbe", "livenessProbe"]) {
          const p = c[kind];
          assert.ok(p, `${d.metadata.name}: no ${kind}`);
          const port = p.httpGet?.port ?? p.tcpSocket?.port;
          assert.ok(resolvePort(port, c), `${d.metadata.name}: ${kind} on undeclared port ${port}`);
        }
      }
    }
  });

  it("runs no container that can escalate privilege or keep default capabilities", () => {
    for (const d of of(objects, "Deployment")) {
      const pod = podsOf(d).spec;
      assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault", d.metadata.name);
      for (const c of pod.containers) {
        const sc = c.securityContext ?? {};
        assert.equal(sc.allowPrivilegeEscalation, false, d.metadata.name);
        assert.deepEqual(sc.capabilities?.drop, ["ALL"], d.metadata.name);
        // Only nginx masters (admin, rtmp) start as root, and they get back just what binding and
        // switching to the nginx user needs.
        if (pod.securityContext.runAsNonRoot !== true) {
          assert.ok(["admin", "rtmp"].includes(d.metadata.name), `${d.metadata.name} may run as root`);
          assert.deepEqual(sc.capabilities.add.sort(), ["CHOWN", "NET_BIND_SERVICE", "SETGID", "SETUID"]);
        }
      }
    }
  });

  it("points every Service at pods that exist, on ports they declare", () => {
    const deployments = of(objects, "Deployment");
    for (const s of of(objects, "Service")) {
      const backing = deployments.filter((d) => selects(s.spec.selector, podsOf(d).labels));
      assert.ok(backing.length > 0, `${s.metadata.name} selects no pods`);
      for (const p of s.spec.ports) {
        const target = p.targetPort ?? p.port;
        for (const d of backing) {
          const c = podsOf(d).spec.containers[0];
          assert.ok(
            resolvePort(target, c),
            `${s.metadata.name}:${p.port} → ${d.metadata.name} has no ${target}`,
          );
        }
      }
    }
  });

  it("reaches liquidsoap's harbor over its own TCP load balancer, not the HTTP ingress", () => {
    const lbs = of(objects, "Service").filter((s) => s.spec.type === "LoadBalancer");
    const liquidsoap = of(objects, "Deployment").find((d) => d.metadata.name === "liquidsoap")!;
    const harbor = lbs.find((s) => selects(s.spec.selector, podsOf(liquidsoap).labels));
    assert.ok(harbor, "no load balancer reaches liquidsoap");
    assert.equal(resolvePort(harbor.spec.ports[0].targetPort, podsOf(liquidsoap).spec.containers[0]), 9000);
    for (const ing of of(objects, "Ingress"))
      for (const r of ing.spec.rules)
        for (const p of r.http.paths)
          assert.notEqual(p.backend.service.name, "liquidsoap", `${r.host} routes harbor over HTTP`);
  });

  it("routes every Ingress host to a Service port that exists, over TLS", () => {
    const services = of(objects, "Service");
    for (const ing of of(objects, "Ingress")) {
      const tlsHosts = new Set(
        (ing.spec.tls ?? []).filter((t: any) => t.secretName).flatMap((t: any) => t.hosts),
      );
      for (const r of ing.spec.rules) {
        assert.ok(tlsHosts.has(r.host), `${r.host} is served without TLS`);
        for (const p of r.http.paths) {
          const svc = services.find((s) => s.metadata.name === p.backend.service.name);
          assert.ok(svc, `${r.host}: no Service ${p.backend.service.name}`);
          assert.ok(
            svc.spec.ports.some((sp: any) => sp.port === p.backend.service.port.number),
            `${r.host}: ${svc.metadata.name} has no port ${p.backend.service.port.number}`,
          );
        }
      }
    }
  });

  it("rolls the pods that read api-env and api-database when the primary moves", async () => {
    const replicas = [{ name: "datafruits-pg-ro-1", size: "db-s-1vcpu-1gb" }];
    const render = async (primary: string) =>
      parseManifests(
        renderManifests(
          await runSite(
            configFor("datafruits", { "database.replicas": replicas, "database.primary": primary }),
          ),
        ),
      );
    const [before, after] = [await render("datafruits-pg"), await render("datafruits-pg-ro-1")];
    const readers = of(after, "Deployment").filter((d) =>
      podsOf(d).spec.containers.some((c: any) =>
        (c.envFrom ?? []).some((e: any) => e.configMapRef?.name === "api-env"),
      ),
    );
    assert.deepEqual(readers.map((d) => d.metadata.name).sort(), [
      "api",
      "api-sidekiq-main",
      "api-sidekiq-scheduler",
    ]);
    for (const d of readers) {
      const old = of(before, "Deployment").find((x) => x.metadata.name === d.metadata.name)!;
      // The API server starts a rollout exactly when spec.template changes.
      assert.notDeepEqual(
        d.spec.template,
        old.spec.template,
        `${d.metadata.name} keeps its pods on the old host`,
      );
    }
    // Pods that read neither keep their template: no needless restarts of icecast or chat.
    for (const name of ["icecast", "liquidsoap", "chat", "site"]) {
      const [a, b] = [before, after].map((ms) => of(ms, "Deployment").find((x) => x.metadata.name === name)!);
      assert.deepEqual(a.spec.template, b.spec.template, name);
    }
  });
});
