// The layout the service ran before the shared turns (a queue per stack), rebuilt with a stub
// runner for comparison: per stack and per worker process a Queue, a Worker (concurrency 1, global
// concurrency 1) and a QueueEvents, each with its own connections.
import { Queue, QueueEvents, Worker } from "bullmq";
import type { StackOperation } from "../../src/workers/stack-turns";

type OpData = Omit<StackOperation, "stack">;

const queueName = (stack: string) => `stack-${stack}`;

/** Connection options as the service passes them (`{ url }`), named for CLIENT LIST. */
export interface NamedConnection {
  url: string;
  connectionName: string;
}

/** The producer side: one Queue per stack (global concurrency 1), FIFO by the stack's own queue. */
export class PerStackProducer {
  private readonly queues = new Map<string, Queue<OpData>>();
  private readonly seq = new Map<string, number>();

  constructor(connection: NamedConnection, stacks: readonly string[]) {
    for (const s of stacks) this.queues.set(s, new Queue<OpData>(queueName(s), { connection }));
  }

  async ensureGlobalConcurrency(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.setGlobalConcurrency(1)));
  }

  async enqueue(stack: string, operationId: string, opts: { enqueuedAt?: number } = {}): Promise<number> {
    const enqueuedAt = opts.enqueuedAt ?? Date.now();
    const seq = (this.seq.get(stack) ?? 0) + 1;
    this.seq.set(stack, seq);
    await this.queues
      .get(stack)!
      .add(
        "op",
        { id: operationId, operationId, seq, enqueuedAt },
        { jobId: operationId, removeOnComplete: true },
      );
    return seq;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

/** The worker side, as WorkerPool.start builds it (one Queue, Worker and QueueEvents per stack). */
export class PerStackWorkers {
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(
    private readonly connection: NamedConnection,
    private readonly stacks: readonly string[],
  ) {}

  async start(
    runner: (op: StackOperation) => Promise<void>,
    name: string,
    lockDurationMs: number,
    stalledIntervalMs: number,
  ) {
    const ready: Promise<unknown>[] = [];
    for (const stack of this.stacks) {
      const q = new Queue(queueName(stack), { connection: this.connection });
      const w = new Worker<OpData>(queueName(stack), (job) => runner({ stack, ...job.data }), {
        connection: this.connection,
        concurrency: 1,
        name,
        lockDuration: lockDurationMs,
        stalledInterval: stalledIntervalMs,
      });
      w.on("error", () => undefined);
      const qe = new QueueEvents(queueName(stack), { connection: this.connection });
      qe.on("error", () => undefined);
      ready.push(q.waitUntilReady(), w.waitUntilReady(), qe.waitUntilReady());
      this.closers.push(
        () => w.close(),
        () => qe.close(),
        () => q.close(),
      );
    }
    await Promise.all(ready);
  }

  async close(): Promise<void> {
    await Promise.all(this.closers.map((c) => c()));
  }
}
