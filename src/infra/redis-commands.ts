import * as fs from "node:fs";
import * as path from "node:path";
import type IORedis from "ioredis";
import { projectRoot } from "./paths";

/**
 * The service's Lua scripts, one file each in `src/infra/lua/<name>-<numberOfKeys>.lua` (as BullMQ
 * keeps `src/commands/`), read from the source tree (tsc copies no `.lua`; the project root is
 * there in every run: `npm start`, `npm test`, a deployment of the repository) and defined once per
 * connection with ioredis `defineCommand`, so Redis receives each script once (EVALSHA afterwards).
 */
export const LUA_DIR = path.join(projectRoot, "src", "infra", "lua");

/** A defined script: KEYS first (as many as its file name says), then ARGV. */
export type RedisCommand = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

/** One method per script file, named in camelCase after it (`ledger-transition-3.lua` → `ledgerTransition`). */
export interface RedisCommands {
  ledgerTransition: RedisCommand;
  stackLockAcquire: RedisCommand;
  stackLockRenew: RedisCommand;
  stackLockRelease: RedisCommand;
  ledgerCreateOrRide: RedisCommand;
  schedulePutUnderCap: RedisCommand;
  turnEnqueue: RedisCommand;
  turnPeek: RedisCommand;
  turnFinish: RedisCommand;
  turnRemove: RedisCommand;
}

interface Script {
  name: keyof RedisCommands;
  numberOfKeys: number;
  lua: string;
}

let scripts: Script[] | undefined;

function loadScripts(): Script[] {
  scripts ??= fs
    .readdirSync(LUA_DIR)
    .filter((f) => f.endsWith(".lua"))
    .map((f) => {
      const m = /^([a-z-]+)-(\d+)\.lua$/.exec(f);
      if (!m) throw new Error(`${path.join(LUA_DIR, f)}: expected <name>-<numberOfKeys>.lua`);
      const name = m[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof RedisCommands;
      return { name, numberOfKeys: Number(m[2]), lua: fs.readFileSync(path.join(LUA_DIR, f), "utf8") };
    });
  return scripts;
}

const defined = new WeakSet<IORedis>();

/** The connection with every script defined on it (once per connection; later calls are free). */
export function redisCommands(redis: IORedis): RedisCommands {
  if (!defined.has(redis)) {
    for (const s of loadScripts()) redis.defineCommand(s.name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
    defined.add(redis);
  }
  return redis as unknown as RedisCommands;
}
