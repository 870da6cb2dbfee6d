// Benchmark (not a test): `npx tsc -p tsconfig.json && node dist/bench/retention-memory.js [operations] [shortRetentionSeconds]`.
// Creates and finishes N operations (default 10,000) through the ledger on a private redis-server,
// each with the events a real run writes, and prints Redis' INFO memory `used_memory`:
//   1. with the default retention (90 days): what N finished operations cost while they are kept;
//   2. with a short retention: the same N after their expiry, i.e. what is left once retention acts.
import * as path from "node:path";
import IORedis from "ioredis";
import { startPrivateRedis } from "../src/infra/redis-server";
import { newOperationId } from "../src/operations/ids";
import { Ledger } from "../src/operations/ledger";
import type { OperationRecord } from "../src/operations/operation-record";
import { DEFAULT_RETENTION_SECONDS, OperationRetention } from "../src/operations/retention";
import { tempDir } from "../test/support/temp-dir";

const SITES = ["vulpine", "chitter", "theatl", "insync", "datafruits"];

async function usedMemory(redis: IORedis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/^used_memory:(\d+)/m.exec(info)![1]);
}

/** One operation as the worker writes it: created, running, a preview and an up with resource events, succeeded. */
async function oneOperation(ledger: Ledger, i: number): Promise<void> {
  const id = newOperationId();
  const site = SITES[i % SITES.length]!;
  const rec: OperationRecord = {
    id,
    site,
    kind: "scale-sidekiq",
    params: { count: 2 + (i % 3) },
    status: "queued",
    requester: { tokenId: "bench" },
    createdAt: new Date().toISOString(),
    attempts: 0,
    recovery: [],
    timings: {},
    plan: {
      summary: `scale ${site} sidekiq pool "main" from 2 to ${2 + (i % 3)} process(es)`,
      changes: [{ path: "sidekiq.pools.main.count", from: 2, to: 2 + (i % 3) }] as never,
      noop: false,
    },
  };
  await ledger.create(rec);
  await ledger.transition(id, ["queued"], "running", { startedAt: new Date().toISOString(), attempts: 1 });
  for (const phase of ["preview", "up"]) {
    for (let r = 0; r < 4; r++) {
      const urn = `urn:pulumi:${site}::stackyard::digitalocean:index/droplet:Droplet::sidekiq-${r}`;
      await ledger.event(id, "resource", {
        phase,
        op: "update",
        type: "digitalocean:index/droplet:Droplet",
        urn,
      });
      await ledger.event(id, "resource-done", { phase, op: "update", urn, durationMs: 120 + r });
    }
    await ledger.event(id, "summary", { phase, changes: { update: 4, same: 20 } });
  }
  await ledger.transition(id, ["running"], "succeeded", {
    finishedAt: new Date().toISOString(),
    result: { resourceChanges: { update: 4, same: 20 }, engineResult: "succeeded" },
    revision: { from: 3, to: 4 },
    timings: { queuedMs: 5, previewMs: 900, upMs: 1400, totalMs: 2400 },
  });
}

async function run(n: number, retentionSeconds: number, waitForExpiry: boolean) {
  const tmp = tempDir("bench-retention");
  const server = await startPrivateRedis(path.join(tmp.dir, "redis"));
  const redis = new IORedis(server.url, { maxRetriesPerRequest: 1 });
  try {
    const before = await usedMemory(redis);
    const ledger = new Ledger(redis, new OperationRetention(redis, retentionSeconds));
    const t0 = Date.now();
    const batch = 50;
    for (let i = 0; i < n; i += batch)
      await Promise.all(
        Array.from({ length: Math.min(batch, n - i) }, (_, j) => oneOperation(ledger, i + j)),
      );
    const elapsedMs = Date.now() - t0;
    const after = await usedMemory(redis);
    const keys = await redis.dbsize();
    const withTtl = (await redis.info("keyspace")).match(/expires=(\d+)/)?.[1];
    let expired: { usedMemory: number; keys: number } | undefined;
    if (waitForExpiry) {
      const deadline = Date.now() + (retentionSeconds + 60) * 1000;
      await new Promise((r) => setTimeout(r, retentionSeconds * 1000));
      while ((await redis.info("keyspace")).includes("expires=") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 500));
      expired = { usedMemory: await usedMemory(redis), keys: await redis.dbsize() };
    }
    return {
      operations: n,
      retentionSeconds,
      elapsedMs,
      usedMemoryBefore: before,
      usedMemoryAfter: after,
      bytesPerOperation: Math.round((after - before) / n),
      keys,
      keysWithExpiry: Number(withTtl ?? 0),
      afterExpiry: expired,
    };
  } finally {
    redis.disconnect();
    await server.stop();
    tmp.remove();
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10_000);
  const short = Number(process.argv[3] ?? 5);
  const kept = await run(n, DEFAULT_RETENTION_SECONDS, false);
  const expiring = await run(n, short, true);
  process.stdout.write(
    JSON.stringify(
      { when: new Date().toISOString(), defaultRetention: kept, shortRetention: expiring },
      null,
      2,
    ) + "\n",
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
