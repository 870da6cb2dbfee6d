// The enqueue floor (issue 19's anchor): the least an enqueue route can do on the same Redis and the
// same libraries. It validates the JSON body with a schema, writes one record and adds one BullMQ job,
// then answers 202. Started by bench/enqueue/enqueue-ab.ts as its own process, like the service's API.
// `node dist/bench/enqueue/floor-server.js` with REDIS_URL set; prints {"msg":"floor listening","port":N}.
import { randomUUID } from "node:crypto";
import express from "express";
import { Queue } from "bullmq";
import IORedis from "ioredis";
import { z } from "zod";

const bodySchema = z.strictObject({
  operation: z.literal("scale-sidekiq"),
  params: z.strictObject({ count: z.number().int().min(1).max(100) }),
});

async function main(): Promise<void> {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error("REDIS_URL is required");
  const redis = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue("floor-enqueue", { connection: new IORedis(url, { maxRetriesPerRequest: null }) });
  const app = express();
  app.use(express.json({ limit: 16_384, strict: true, type: "application/json" }));
  app.post("/v1/sites/:site/operations", async (req, res) => {
    const parsed = bodySchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: parsed.error.issues[0]?.path.join(".") });
    const id = `op-${randomUUID()}`;
    const record = { id, site: req.params.site, kind: parsed.data.operation, params: parsed.data.params };
    await redis.set(`floor:op:${id}`, JSON.stringify(record), "EX", 3600);
    await queue.add("op", { id }, { jobId: id, removeOnComplete: true });
    res.status(202).location(`/v1/operations/${id}`).json({ id, status: "queued" });
  });
  const server = app.listen(0, "127.0.0.1", () => {
    const addr = server.address();
    process.stdout.write(
      JSON.stringify({ msg: "floor listening", port: typeof addr === "object" ? addr?.port : 0 }) + "\n",
    );
  });
  process.on("SIGTERM", () => {
    server.close();
    void Promise.all([queue.close(), redis.quit()]).finally(() => process.exit(0));
  });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
