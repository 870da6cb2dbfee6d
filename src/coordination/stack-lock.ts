import { randomUUID } from "node:crypto";
import * as os from "node:os";
import type IORedis from "ioredis";
import { pidAlive } from "../infra/pid-alive";
import { redisCommands } from "../infra/redis-commands";
import { redisKeys } from "../infra/redis-keys";

/** Who holds a stack: the operation, and the process on which host (so a dead holder can be told apart). */
export interface StackLockHolder {
  operationId: string;
  host: string;
  pid: number;
  token: string;
  /** Grows with every acquisition of this stack's lock: a later holder always has a larger fence. */
  fence: number;
}

export interface HeldStackLock {
  holder: StackLockHolder;
  /** True once renewal found the key gone or taken: the holder must stop mutating. */
  lost(): boolean;
  /** Asks Redis now whether this holder still holds the stack (checked before every engine step). */
  verify(): Promise<boolean>;
  release(): Promise<void>;
}

// Acquire, renew and release are src/infra/lua/stack-lock-*.lua: renew and release only while the
// key still holds our token, so a holder whose lock expired never touches its successor's.

/**
 * The service's own per-stack lock in Redis (SET NX PX, renewed, compare-and-delete). BullMQ's
 * global concurrency already serialises jobs per stack; this lock is what lets recovery decide
 * that a Pulumi lock file belongs to a dead holder, and it stops a paused-then-resumed worker
 * from updating after its turn has passed.
 */
export class StackLock {
  constructor(
    private readonly redis: IORedis,
    private readonly ttlMs = 30_000,
  ) {}

  private key(stack: string): string {
    return redisKeys.stackLock(stack);
  }

  private fenceKey(stack: string): string {
    return redisKeys.stackFence(stack);
  }

  async holder(stack: string): Promise<StackLockHolder | undefined> {
    const v = await this.redis.get(this.key(stack));
    return v ? (JSON.parse(v) as StackLockHolder) : undefined;
  }

  async tryAcquire(stack: string, operationId: string): Promise<HeldStackLock | undefined> {
    const claim = { operationId, host: os.hostname(), pid: process.pid, token: randomUUID() };
    const value = (await redisCommands(this.redis).stackLockAcquire(
      this.key(stack),
      this.fenceKey(stack),
      JSON.stringify(claim),
      this.ttlMs,
    )) as string | null;
    if (!value) return undefined;
    const holder = JSON.parse(value) as StackLockHolder;
    let lost = false;
    const timer = setInterval(
      () => {
        redisCommands(this.redis)
          .stackLockRenew(this.key(stack), value, this.ttlMs)
          .then(
            (r) => (lost = lost || r === 0),
            () => undefined, // a Redis blip: the next renewal decides
          );
      },
      Math.max(250, Math.floor(this.ttlMs / 3)),
    );
    timer.unref();
    return {
      holder,
      lost: () => lost,
      verify: async () => !lost && (await this.redis.get(this.key(stack))) === value,
      release: async () => {
        clearInterval(timer);
        await redisCommands(this.redis)
          .stackLockRelease(this.key(stack), value)
          .catch(() => undefined);
      },
    };
  }

  /**
   * Waits for the stack, breaking a lock whose holder is a dead process on this host. Gives up
   * after `waitMs` and returns the live holder instead.
   */
  async acquire(
    stack: string,
    operationId: string,
    waitMs: number,
  ): Promise<HeldStackLock | { busy: StackLockHolder }> {
    const until = Date.now() + waitMs;
    for (;;) {
      const held = await this.tryAcquire(stack, operationId);
      if (held) return held;
      const raw = await this.redis.get(this.key(stack));
      const h = raw ? (JSON.parse(raw) as StackLockHolder) : undefined;
      if (h && h.host === os.hostname() && !pidAlive(h.pid)) {
        // Compare-and-delete on the exact stored text: a new holder's lock is never the one broken.
        await redisCommands(this.redis).stackLockRelease(this.key(stack), raw!);
        continue;
      }
      if (Date.now() > until)
        return { busy: h ?? { operationId: "unknown", host: "unknown", pid: 0, token: "", fence: 0 } };
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
