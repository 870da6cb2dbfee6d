import { UnrecoverableError } from "bullmq";

/** A POSIX absolute path of at least two segments, where a word starts (not the `//host/…` of a URL). */
const ABSOLUTE_PATH = /(^|[\s"'`(=,[])\/(?:[\w.@+~-]+\/)+([\w.@+~-]+)/g;

/** The text with every absolute path cut to its last segment (`/srv/x/stacks/Pulumi.a.yaml` → `Pulumi.a.yaml`). */
export function withoutAbsolutePaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, (_m, before: string, last: string) => `${before}${last}`);
}

/**
 * What a job's failure says in BullMQ (and so in Bull Board): the reason without the host's paths,
 * and a stack of that one line, so the job keeps no trace of where the service is installed.
 */
export function jobFailure(reason: string): UnrecoverableError {
  const e = new UnrecoverableError(withoutAbsolutePaths(reason).slice(0, 500));
  e.stack = `${e.name}: ${e.message}`;
  return e;
}

/** The same for an error the processor did not expect: its message only, paths cut, no stack frames. */
export function unexpectedJobFailure(err: unknown): Error {
  const e = new Error(withoutAbsolutePaths(err instanceof Error ? err.message : String(err)).slice(0, 500));
  e.stack = `${e.name}: ${e.message}`;
  return e;
}
