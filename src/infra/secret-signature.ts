/**
 * How Pulumi marks a secret in a property value, everywhere it travels as JSON (provider gRPC
 * structs, engine events, exported state): an object whose signature key holds the secret
 * signature (`sdk/go/common/resource/sig`). One place for the two constants.
 */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Whether `v` carries Pulumi's secret signature (its other fields differ by where it travels). */
export function hasSecretSignature(v: unknown): boolean {
  return (
    typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG_VALUE
  );
}
