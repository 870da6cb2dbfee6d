import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import IORedis from "ioredis";
import { LUA_DIR, redisCommands } from "../../src/infra/redis-commands";

describe("Lua scripts as files, defined once per connection", () => {
  it("defines one command per src/infra/lua/<name>-<keys>.lua on a connection, without connecting", () => {
    const files = fs.readdirSync(LUA_DIR).filter((f) => f.endsWith(".lua"));
    assert.ok(files.length >= 6, files.join(", "));
    const redis = new IORedis({ lazyConnect: true });
    try {
      const commands = redisCommands(redis) as unknown as Record<string, unknown>;
      for (const name of [
        "ledgerTransition",
        "stackLockAcquire",
        "stackLockRenew",
        "stackLockRelease",
        "ledgerCreateOrRide",
        "schedulePutUnderCap",
      ])
        assert.equal(typeof commands[name], "function", name);
      assert.equal(
        redisCommands(redis),
        commands,
        "a second call on the same connection defines nothing again",
      );
    } finally {
      redis.disconnect();
    }
  });
});
