import { redact } from "./redact";

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/**
 * JSON lines, one event per line. Redaction happens here, at the one place every log call passes
 * through, so a careless call site cannot leak a token or a passphrase.
 */
export function createLogger(opts: {
  level?: LogLevel;
  write?: (line: string) => void;
  secrets?: readonly string[];
  base?: Record<string, unknown>;
}): Logger {
  const min = ORDER[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const secrets = opts.secrets ?? [];
  const make = (base: Record<string, unknown>): Logger => {
    const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
      if (ORDER[level] < min) return;
      const entry = redact({ ts: new Date().toISOString(), level, msg, ...base, ...fields }, secrets);
      write(JSON.stringify(entry));
    };
    return {
      debug: (m, f) => log("debug", m, f),
      info: (m, f) => log("info", m, f),
      warn: (m, f) => log("warn", m, f),
      error: (m, f) => log("error", m, f),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return make(opts.base ?? {});
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ level: "error", write: () => undefined });
