import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { freePort } from "../../src/infra/redis-server";
import { certificateDir, THEATL_NGINX, THEATL_WEB } from "../../src/programs/theatl/edge-config";
import { byType, runSite, type Run } from "../programs/support/harness";
import { configFor } from "../programs/support/fixtures";
import { tempDir } from "../support/temp-dir";
import { haproxyCheck, nginxTest, selfSigned, type RenderedHost } from "./support/rendered-host";
import { publishedOf, resolvedCompose, theatlHost } from "./support/theatl-host";

const execFileAsync = promisify(execFile);
const DNS = "digitalocean:index/dnsRecord:DnsRecord";
const DOMAIN = "theatl.social";

/** A droplet's boot files plus its family's pulled files, as one host. */
function hostWithPulled(run: Run, droplet: string): RenderedHost {
  const h = theatlHost(run, droplet);
  return { ...h.host, files: [...h.host.files, ...h.pulled] };
}

/** A compose volume `source:target[:mode]` as resolved (the source is absolute, in compose's project folder). */
function mountOf(svc: any, file: string): { source: string; target: string } | undefined {
  for (const v of svc.volumes as string[]) {
    const [source, target] = v.split(":");
    if (path.basename(source!) === file) return { source: source!, target: target! };
  }
  return undefined;
}

/** The compose service of a family, as `docker-compose config` resolves it. */
function composeService(run: Run, droplet: string, service: string): any {
  const h = theatlHost(run, droplet);
  const compose = h.pulled.find((f) => f.path === "/opt/mastodon/docker-compose.yml")!.content;
  const r = resolvedCompose(compose, "");
  assert.ok(r.ok, r.output);
  return r.doc!.services[service];
}

/** An upstream that answers with what it was asked and how (path, forwarded headers). */
async function echoServer(name: string): Promise<{ port: number; close(): void }> {
  const server = http.createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ upstream: name, url: req.url, headers: req.headers }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

describe("theATL edge: HAProxy and nginx, read by their consumers", function () {
  this.timeout(120_000);
  let run: Run;
  before(async () => {
    run = await runSite(configFor("theatl"));
  });

  it("private names point at the current droplets: nginx.int at the nginx host, web.int at every web droplet", async () => {
    const records = byType(run, DNS);
    const nginx = records.filter((r) => r.inputs.name === THEATL_NGINX);
    assert.equal(nginx.length, 1);
    assert.equal(nginx[0]!.inputs.type, "A");
    const scaled = await runSite(configFor("theatl", { "web.count": 3 }));
    const web = byType(scaled, DNS).filter((r) => r.inputs.name === THEATL_WEB);
    assert.deepEqual(web.map((r) => r.name).sort(), [
      "theatl-web-1-int",
      "theatl-web-2-int",
      "theatl-web-3-int",
    ]);
    // The edge's files do not change with the web count: only records do.
    assert.deepEqual(publishedOf(scaled, "nginx"), publishedOf(run, "nginx"));
    assert.deepEqual(publishedOf(scaled, "haproxy"), publishedOf(run, "haproxy"));
  });

  it("haproxy -c accepts the rendered haproxy.cfg, which compose mounts where the image reads it", () => {
    const r = haproxyCheck(hostWithPulled(run, "theatl-haproxy"), "/opt/mastodon/haproxy.cfg", [
      "/opt/mastodon",
    ]);
    assert.ok(r.ok, r.output);
    const svc = composeService(run, "theatl-haproxy", "haproxy");
    assert.equal(mountOf(svc, "haproxy.cfg")?.target, "/usr/local/etc/haproxy/haproxy.cfg");
    const cfg = publishedOf(run, "haproxy")["haproxy.cfg"]!;
    assert.ok(cfg.includes(`${THEATL_NGINX}.${DOMAIN}:443`), "HTTPS goes to the nginx hosts");
  });

  it("nginx -t accepts the rendered site where compose mounts it, with the certificate where certbot keeps it", () => {
    const host = hostWithPulled(run, "theatl-nginx");
    const conf = host.files.find((f) => f.path === "/opt/mastodon/mastodon.conf")!;
    const svc = composeService(run, "theatl-nginx", "nginx");
    assert.equal(mountOf(svc, "mastodon.conf")?.target, "/etc/nginx/conf.d/default.conf");
    // The image's nginx.conf includes conf.d only; Debian's also reads sites-enabled, left empty here.
    const r = nginxTest(
      host,
      ["/etc/nginx/conf.d", "/etc/nginx/sites-enabled", "/etc/letsencrypt"],
      [{ ...conf, path: "/etc/nginx/conf.d/default.conf" }, ...selfSigned([DOMAIN])],
    );
    assert.ok(r.ok, r.output);
  });

  it("a changed edge file changes its container's compose label, so the deploy run recreates it", async () => {
    const moved = await runSite(configFor("theatl", { "vpc.ipRange": "10.20.0.0/20" }));
    const before = composeService(run, "theatl-nginx", "nginx").labels;
    const after = composeService(moved, "theatl-nginx", "nginx").labels;
    assert.notEqual(after["social.theatl.config-digest"], before["social.theatl.config-digest"]);
    assert.equal(
      composeService(moved, "theatl-haproxy", "haproxy").labels["social.theatl.config-digest"],
      composeService(run, "theatl-haproxy", "haproxy").labels["social.theatl.config-digest"],
      "haproxy.cfg did not change",
    );
  });

  it("nginx from the rendered site relays HTTPS to puma and /api/v1/streaming (WebSocket) to the streaming server, and redirects HTTP", async () => {
    const conf = publishedOf(run, "nginx")["mastodon.conf"]!;
    const web = await echoServer("puma");
    const streaming = await echoServer("streaming");
    const [p80, p443] = [await freePort(), await freePort()];
    const t = tempDir("theatl-nginx");
    // Only addresses are rewritten: listen ports, the upstreams' private name (to loopback) and the
    // trusted proxy network (HAProxy's VPC address is loopback here).
    const local = conf
      .replace("listen 80 ", `listen 127.0.0.1:${p80} `)
      .replace("listen 443 ", `listen 127.0.0.1:${p443} `)
      .replaceAll(`${THEATL_WEB}.${DOMAIN}:3000`, `127.0.0.1:${web.port}`)
      .replaceAll(`${THEATL_WEB}.${DOMAIN}:4000`, `127.0.0.1:${streaming.port}`)
      .replaceAll(/set_real_ip_from [^;]+;/g, "set_real_ip_from 127.0.0.0/8;")
      .replaceAll(certificateDir(configFor("theatl").spec as any), t.dir);
    for (const f of selfSigned([DOMAIN]))
      fs.writeFileSync(path.join(t.dir, path.basename(f.path)), f.content, { mode: 0o600 });
    fs.writeFileSync(path.join(t.dir, "site.conf"), local);
    fs.writeFileSync(
      path.join(t.dir, "nginx.conf"),
      [
        `pid ${t.dir}/nginx.pid;`,
        `error_log ${t.dir}/error.log;`,
        "events {}",
        `http { access_log off; include ${t.dir}/site.conf; }`,
        "",
      ].join("\n"),
    );
    const server = spawn("nginx", ["-p", t.dir, "-c", path.join(t.dir, "nginx.conf"), "-g", "daemon off;"], {
      stdio: "ignore",
    });
    // Asynchronous: the upstreams answer from this process's event loop.
    const curl = (...args: string[]) =>
      execFileAsync(
        "curl",
        [
          "-sS",
          "--haproxy-protocol",
          "--resolve",
          `${DOMAIN}:${p443}:127.0.0.1`,
          "--resolve",
          `${DOMAIN}:${p80}:127.0.0.1`,
          "--cacert",
          path.join(t.dir, "fullchain.pem"),
          ...args,
        ],
        { encoding: "utf8", timeout: 20_000 },
      ).then(
        (r) => ({ status: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({
          status: e.code ?? -1,
          stdout: e.stdout ?? "",
          stderr: e.stderr ?? "",
        }),
      );
    try {
      const until = Date.now() + 15_000;
      while ((await curl("-o", "/dev/null", `http://${DOMAIN}:${p80}/`)).status !== 0) {
        if (Date.now() > until) throw new Error(fs.readFileSync(path.join(t.dir, "error.log"), "utf8"));
        await new Promise((r) => setTimeout(r, 100));
      }
      const redirect = await curl(
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
        `http://${DOMAIN}:${p80}/about`,
      );
      assert.equal(redirect.stdout, `301 https://${DOMAIN}/about`);

      const pageRun = await curl(`https://${DOMAIN}:${p443}/api/v1/instance`);
      assert.equal(pageRun.status, 0, pageRun.stderr);
      const page = JSON.parse(pageRun.stdout);
      assert.equal(page.upstream, "puma");
      assert.equal(page.url, "/api/v1/instance");
      assert.equal(page.headers["x-forwarded-proto"], "https");
      assert.equal(page.headers.host, `${DOMAIN}`);

      const ws = JSON.parse(
        (
          await curl(
            "-H",
            "Upgrade: websocket",
            "-H",
            "Connection: Upgrade",
            `https://${DOMAIN}:${p443}/api/v1/streaming?stream=public`,
          )
        ).stdout,
      );
      assert.equal(ws.upstream, "streaming");
      assert.equal(ws.url, "/api/v1/streaming?stream=public");
      assert.equal(ws.headers.upgrade, "websocket");
      assert.equal(ws.headers.connection, "upgrade");

      // Without the PROXY header HAProxy sends, nginx accepts nothing (only HAProxy may reach it).
      const direct = await execFileAsync("curl", ["-sS", "-o", "/dev/null", `http://127.0.0.1:${p80}/`], {
        timeout: 20_000,
      }).then(
        () => 0,
        (e: { code?: number }) => e.code ?? -1,
      );
      assert.notEqual(direct, 0);
    } finally {
      server.kill();
      web.close();
      streaming.close();
      t.remove();
    }
  });
});
