import * as http from "node:http";
import Ajv2020 from "ajv/dist/2020";
import { openApiDocument } from "../../src/api/openapi";

const DOC_ID = "https://stackyard.invalid/openapi.json";

interface Documented {
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: object }> }>;
}

/**
 * Checks real answers of the API against the served OpenAPI document: the status is documented
 * for that path and method, and a JSON body matches the documented schema (ajv, JSON Schema 2020-12).
 */
export class ContractChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly paths: Array<{ template: string; pattern: RegExp }>;
  readonly checked: string[] = [];

  constructor(private readonly doc: typeof openApiDocument = openApiDocument) {
    this.ajv.addSchema({ $id: DOC_ID, components: doc.components });
    this.paths = Object.keys(doc.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
    }));
  }

  /** Throws with what differs; returns the documented path template. */
  check(
    method: string,
    concretePath: string,
    status: number,
    body: unknown,
    contentType: string | null,
  ): string {
    const pathOnly = concretePath.split("?")[0]!;
    const hit = this.paths.find((p) => p.pattern.test(pathOnly));
    if (!hit) throw new Error(`${method} ${concretePath}: no documented path`);
    const op = (this.doc.paths as Record<string, Record<string, Documented>>)[hit.template]![
      method.toLowerCase()
    ];
    if (status === 405) {
      if (op) throw new Error(`${method} ${hit.template} is documented but answered 405`);
      this.checked.push(`${method} ${hit.template} 405`);
      return hit.template;
    }
    if (!op) throw new Error(`${method} ${hit.template}: method not documented (answered ${status})`);
    const response = op.responses[String(status)];
    if (!response)
      throw new Error(
        `${method} ${hit.template}: status ${status} not documented (${Object.keys(op.responses).join(", ")})`,
      );
    const resolved = response.$ref ? this.resolve(response.$ref) : response;
    const schema = resolved.content?.["application/json"]?.schema;
    if (schema) {
      if (!contentType?.startsWith("application/json"))
        throw new Error(`${method} ${hit.template} ${status}: documented JSON, got ${contentType}`);
      const validate = this.ajv.compile({ $ref: this.absolute(schema) });
      if (!validate(body)) {
        throw new Error(
          `${method} ${hit.template} ${status}: body does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
        );
      }
    }
    this.checked.push(`${method} ${hit.template} ${status}`);
    return hit.template;
  }

  private resolve(ref: string): { content?: Record<string, { schema: object }> } {
    const parts = ref.replace(/^#\//, "").split("/");
    let node: any = this.doc;
    for (const p of parts) node = node[p];
    return node;
  }

  /** `{ $ref: "#/components/..." }` inside the document, as a reference ajv can follow from outside it. */
  private absolute(schema: object): string | object {
    const ref = (schema as { $ref?: string }).$ref;
    if (ref) return `${DOC_ID}${ref}`;
    const id = `${DOC_ID}#inline-${this.checked.length}-${Math.random().toString(36).slice(2)}`;
    this.ajv.addSchema({ ...schema, $id: id.replace("#", "/") });
    return id.replace("#", "/");
  }
}

/** A request with any method, TRACE included (fetch refuses to send TRACE), over node:http. */
export function rawRequest(
  base: string,
  method: string,
  p: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; allow: string | null; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${p}`, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // empty or not JSON
        }
        resolve({
          status: res.statusCode ?? 0,
          allow: (res.headers.allow as string | undefined) ?? null,
          body,
        });
      });
    });
    req.on("error", reject);
    req.end();
  });
}
