import { ERROR_CODE_LIST, ERROR_CODES, OPERATION_FAILURE_CODES } from "./error-codes";

/** The markers in docs/api.md between which the error table is rendered. */
export const ERROR_DOCS_START = "<!-- error-codes:start -->";
export const ERROR_DOCS_END = "<!-- error-codes:end -->";

const cell = (text: string) => text.replace(/\|/g, "\\|");

/** The error table as markdown, one row per code in table order, between its markers. */
export function renderErrorDocs(): string {
  const rows = ERROR_CODE_LIST.map(
    (code) => `| \`${code}\` | ${ERROR_CODES[code].status} | ${cell(ERROR_CODES[code].description)} |`,
  );
  return [
    ERROR_DOCS_START,
    "<!-- Generated from src/errors/error-codes.ts by `npm run docs:errors`; do not edit by hand. -->",
    "",
    "| code | status | meaning |",
    "| --- | --- | --- |",
    ...rows,
    "",
    "Codes that only end an operation (its `failure.code`), never an HTTP answer:",
    "",
    "| code | meaning |",
    "| --- | --- |",
    ...Object.entries(OPERATION_FAILURE_CODES).map(([code, text]) => `| \`${code}\` | ${cell(text)} |`),
    "",
    ERROR_DOCS_END,
  ].join("\n");
}

/** Where the block sits in `doc`: its start and end offsets, markers included. Throws unless each marker is there once, in order. */
export function errorDocsBlockIn(doc: string): { start: number; end: number } {
  const start = doc.indexOf(ERROR_DOCS_START);
  const endMarker = doc.indexOf(ERROR_DOCS_END);
  if (
    start < 0 ||
    endMarker < start ||
    doc.indexOf(ERROR_DOCS_START, start + 1) >= 0 ||
    doc.indexOf(ERROR_DOCS_END, endMarker + 1) >= 0
  )
    throw new Error(`expected one ${ERROR_DOCS_START} followed by one ${ERROR_DOCS_END}`);
  return { start, end: endMarker + ERROR_DOCS_END.length };
}

/** `doc` with its error block replaced by the one the table renders now. */
export function withErrorDocs(doc: string): string {
  const { start, end } = errorDocsBlockIn(doc);
  return doc.slice(0, start) + renderErrorDocs() + doc.slice(end);
}
