import { randomBytes } from "node:crypto";
import { hashToken } from "../auth/tokens";

// `node dist/src/api/hash-token.js [token]`: prints a token (new when none is given) and the SHA-256
// to put in STACKYARD_TOKENS. The token itself is shown once and stored nowhere.
const token = process.argv[2] ?? `svc_${randomBytes(32).toString("base64url")}`;
process.stdout.write(`token:  ${token}\nsha256: ${hashToken(token)}\n`);
