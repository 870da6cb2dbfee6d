import type { EngineSettings } from "../engine/engine-env";
import type { LiveFacts } from "../operations/live-db-node";
import type { StackFileStore } from "../operations/stack-file-store";

/**
 * A sandbox copy of one site, for a rehearsal: its own state backend (the live state imported),
 * its own stack file, a simulated cloud seeded from the state, a PULUMI_HOME with only the
 * simulated plugins. Built by the composition root (src/service/rehearsal-twin.ts), removed when
 * the rehearsal ends.
 */
export interface RehearsalTwin {
  dir: string;
  engine: EngineSettings;
  stackFiles: StackFileStore;
  /** The twin's database hosts, as its simulated cloud reports them (for the checks and verify). */
  facts: LiveFacts;
  /** Cloud resources copied from the live state. */
  seeded: number;
  remove(): void;
}

/** Builds the twin of `site` for one rehearsal (the operation's id names its folder). */
export type TwinBuilder = (site: string, operationId: string) => Promise<RehearsalTwin>;
