import { z } from "zod";

/**
 * What one rule said about one request, whichever layer asked it (DESIGN.md §2): the operation
 * guards (at submit and again before `up`, live checks included), the resource policy pack, or the
 * blast-radius check. A refusal names the rule, the value it saw and the limit it holds. The same
 * shape is returned by a guard, kept on the record (`checks`, `refusals`), carried by
 * GuardRefusedError and shown by the API (the OpenAPI document is generated from these schemas).
 */
export const verdictLayerSchema = z.enum(["guard", "policy", "blast-radius"]);
export type VerdictLayer = z.infer<typeof verdictLayerSchema>;

export const passSchema = z.object({
  ok: z.literal(true),
  layer: verdictLayerSchema,
  rule: z.string(),
  message: z.string(),
  /** What the rule saw and the limit it holds, when it says (a refusal always does). */
  value: z.unknown().optional(),
  limit: z.unknown().optional(),
  /** A pass the record keeps as a note (an emergency failover outside the change window). */
  note: z.literal(true).optional(),
});
export type Pass = z.infer<typeof passSchema>;

export const refusalSchema = z.object({
  ok: z.literal(false),
  layer: verdictLayerSchema,
  rule: z.string(),
  message: z.string(),
  value: z.unknown(),
  limit: z.unknown(),
  /** The request field to change, when one field is to blame. */
  field: z.string().optional(),
});
export type Refusal = z.infer<typeof refusalSchema>;

export const verdictSchema = z.discriminatedUnion("ok", [passSchema, refusalSchema]);
export type Verdict = z.infer<typeof verdictSchema>;

export const pass = (rule: string, message: string, layer: VerdictLayer = "guard"): Pass => ({
  ok: true,
  layer,
  rule,
  message,
});

/** A pass worth keeping on the record: the operation went ahead on an exception the rule allows. */
export const passWithNote = (rule: string, message: string): Pass => ({ ...pass(rule, message), note: true });

export const refuse = (r: Omit<Refusal, "ok" | "layer"> & { layer?: VerdictLayer }): Refusal => ({
  ok: false,
  layer: "guard",
  ...r,
});

export const refusalsOf = (verdicts: readonly Verdict[]): Refusal[] =>
  verdicts.filter((v): v is Refusal => !v.ok);
