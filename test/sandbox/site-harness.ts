import * as fs from "node:fs";
import * as path from "node:path";
import { EngineEvent } from "@pulumi/pulumi/automation";
import * as YAML from "yaml";
import { projectRoot } from "../../src/infra/paths";
import { programFromStackConfig } from "../../src/programs/program";
import { Sandbox } from "./sandbox-harness";

// Runs a real site program (src/programs) inline in the sandbox, against a copy of Pulumi.yaml and
// stacks/ so knob changes never touch the repository's stack files.

export interface SiteRun {
  workDir: string;
  stackFile: string;
  /** Edits stackyard:spec in the copied stack file (what an operation's config change does). */
  editSpec(fn: (spec: Record<string, any>) => void): void;
}

export function copySiteProject(sbx: Sandbox, site: string): SiteRun {
  const workDir = path.join(sbx.root, `site-${site}`);
  fs.mkdirSync(path.join(workDir, "stacks"), { recursive: true });
  // Inline runs need no `main` (the engine would check that the compiled entry exists in workDir).
  const project = YAML.parse(fs.readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8")) as Record<
    string,
    unknown
  >;
  delete project.main;
  fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), YAML.stringify(project));
  const stackFile = path.join(workDir, "stacks", `Pulumi.${site}.yaml`);
  fs.copyFileSync(path.join(projectRoot, "stacks", `Pulumi.${site}.yaml`), stackFile);
  return {
    workDir,
    stackFile,
    editSpec(fn) {
      const doc = YAML.parseDocument(fs.readFileSync(stackFile, "utf8"));
      const spec = doc.getIn(["config", "stackyard:spec"]) as YAML.YAMLMap;
      const plain = spec.toJSON() as Record<string, any>;
      fn(plain);
      doc.setIn(["config", "stackyard:spec"], doc.createNode(plain));
      fs.writeFileSync(stackFile, doc.toString());
    },
  };
}

export function projectName(): string {
  return (YAML.parse(fs.readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8")) as { name: string })
    .name;
}

export const siteProgram = programFromStackConfig;

/** Collects "<op> <type>" for every step the engine takes (same steps excluded). */
export function stepRecorder(): { onEvent: (e: EngineEvent) => void; steps: string[] } {
  const steps: string[] = [];
  return {
    steps,
    onEvent(e) {
      const m = e.resOutputsEvent?.metadata;
      if (m && m.op !== "same" && m.op !== "read") steps.push(`${m.op} ${m.type}`);
    },
  };
}
