import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../infra/paths";
import { withErrorDocs } from "./error-docs";

/** `npm run docs:errors`: rewrites the error table of docs/api.md from src/errors/error-codes.ts. */
const file = path.join(projectRoot, "docs", "api.md");
const before = fs.readFileSync(file, "utf8");
const after = withErrorDocs(before);
if (after !== before) fs.writeFileSync(file, after);
console.log(
  after === before ? "docs/api.md: error table already current" : "docs/api.md: error table rewritten",
);
