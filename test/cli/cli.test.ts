import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { projectRoot } from "../workers/support/service-harness";
import { operatorService, type OperatorService } from "../chatops/support/operator-service";

const BIN = path.join(projectRoot, "bin", "stackyard");

function stackyard(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const { STACKYARD_TOKEN: _t, STACKYARD_URL: _u, ...rest } = process.env;
    execFile(
      BIN,
      args,
      { env: { ...rest, ...env } as NodeJS.ProcessEnv, timeout: 300_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe("operator CLI (bin/stackyard) against the running service", function () {
  this.timeout(600_000);
  let s: OperatorService;
  let env: Record<string, string>;
  before(async () => {
    s = await operatorService();
    env = { STACKYARD_URL: s.base, STACKYARD_TOKEN: s.tokens.admin };
  });

  it("lists the sites the token may see", async () => {
    const r = await stackyard(["sites"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["theatl", "vulpine"]);
  });

  it("runs an operation, renders a progress line per engine event, and exits 0 when it succeeds", async () => {
    const api = s.api();
    for (const o of (await api.get("/v1/sites/theatl/operations?limit=200")).body.operations)
      await api.waitFor(o.id);
    // A count other than the current one, so the engine has steps to show.
    const current = (new StackFileStore(s.d.workspace).load("theatl").spec as any).sidekiq.pools.main
      .count as number;
    const want = current === 3 ? 2 : 3;
    const r = await stackyard(["run", "theatl", "scale-sidekiq", `count=${want}`], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split("\n");
    const id = /^queued (op-[0-9a-f-]{36}): scale theatl sidekiq pool "main" from \d to \d/.exec(
      lines[0]!,
    )?.[1];
    assert.ok(id, lines[0]);
    assert.ok(
      lines.some((l) => /status +running/.test(l)),
      r.stdout,
    );
    assert.ok(
      lines.some((l) =>
        /preview +(create|delete) digitalocean:index\/droplet:Droplet theatl-sidekiq-main-\d/.test(l),
      ),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => /check +ok +blast-radius/.test(l)),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => /up +\[\d+\/\d+\] /.test(l)),
      r.stdout,
    );
    assert.match(lines.at(-1)!, new RegExp(`^${id} succeeded \\(config revision \\d+\\)$`));

    const hist = await stackyard(["history", "theatl", "5"], env);
    assert.equal(hist.code, 0);
    assert.match(hist.stdout.split("\n")[0]!, new RegExp(`${id}  succeeded .*admin$`));
    const show = await stackyard(["show", id!], env);
    assert.equal(JSON.parse(show.stdout).status, "succeeded");
  });

  it("exits 3 with the service's code when the request is refused, and 2 without a token", async () => {
    const refused = await stackyard(["run", "theatl", "scale-sidekiq", "count=0"], env);
    assert.equal(refused.code, 3, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /refused \(400 VALIDATION_FAILED\): invalid body: params\.count/);
    // A state folder with no first-run token in it (the checkout's own may hold one).
    const noToken = await stackyard(["sites"], {
      STACKYARD_URL: s.base,
      STACKYARD_STATE_DIR: path.join(s.d.dir, "no-local-token"),
    });
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /STACKYARD_TOKEN is not set/);
  });

  it("approve exits 3 naming the service's code when the operation is not awaiting approval", async () => {
    const done = await s.finishedOperation();
    const r = await stackyard(["approve", done.id], {
      STACKYARD_URL: s.base,
      STACKYARD_TOKEN: s.tokens.approver,
    });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `refused \\(409 OPERATION_NOT_AWAITING_APPROVAL\\): operation ${done.id} is succeeded, not awaiting approval`,
      ),
    );
  });
});
