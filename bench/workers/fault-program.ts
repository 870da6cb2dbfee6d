import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";

/**
 * A fault planned by the benchmark's driver (`<dir>/plan.json`): during the `up` of `faultStack`,
 * while `victimStack`'s up is inside its program, `faultStack`'s program throws from a timer (an
 * uncaught exception, as a bug in a program or a library would) or calls `process.exit(1)`.
 */
export interface FaultPlan {
  faultStack: string;
  victimStack: string;
  kind: "throw" | "exit";
}

export const FAULT_DIR_ENV = "STACKYARD_BENCH_FAULT_DIR";
const VICTIM_IN_PROGRAM = "victim-in-program";
const FAULT_FIRED = "fault-fired";
const MEET_TIMEOUT_MS = 60_000;

export function writeFaultPlan(dir: string, plan: FaultPlan | undefined): void {
  for (const f of ["plan.json", VICTIM_IN_PROGRAM, FAULT_FIRED])
    fs.rmSync(path.join(dir, f), { force: true });
  if (plan) fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(plan));
}

function readPlan(dir: string): FaultPlan | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")) as FaultPlan;
  } catch {
    return undefined;
  }
}

async function waitFor(file: string): Promise<boolean> {
  for (const until = Date.now() + MEET_TIMEOUT_MS; Date.now() < until;) {
    if (fs.existsSync(file)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * The site programs, unchanged unless a fault plan names this run's stack: the victim's up waits
 * inside its program until the fault has fired (so it is mid-run when it happens) and then goes on
 * as usual; the faulty stack's up fires the fault once the victim is inside its program.
 */
export function faultableProgram(base: () => PulumiFn, dir: string | undefined): () => PulumiFn {
  return () => {
    const fn = base();
    if (!dir) return fn;
    return async () => {
      const plan = readPlan(dir);
      const stack = pulumi.getStack();
      if (plan && !pulumi.runtime.isDryRun()) {
        if (stack === plan.victimStack) {
          fs.writeFileSync(path.join(dir, VICTIM_IN_PROGRAM), String(process.pid));
          await waitFor(path.join(dir, FAULT_FIRED));
        } else if (stack === plan.faultStack && (await waitFor(path.join(dir, VICTIM_IN_PROGRAM)))) {
          if (plan.kind === "exit") {
            fs.writeFileSync(path.join(dir, FAULT_FIRED), String(process.pid));
            process.exit(1);
          }
          setTimeout(() => {
            throw new Error(`injected fault: an uncaught exception in ${stack}'s program`);
          }, 0);
          await new Promise((r) => setTimeout(r, 200));
          fs.writeFileSync(path.join(dir, FAULT_FIRED), String(process.pid));
        }
      }
      return fn();
    };
  };
}
