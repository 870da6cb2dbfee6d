import * as http from "node:http";
import type * as net from "node:net";

/**
 * The droplet metadata service of a rehearsed fleet, on loopback: `GET /<droplet id>/metadata/v1/tags`
 * answers that droplet's current tags, one per line, as DigitalOcean's 169.254.169.254 does for the
 * droplet asking. Each host's METADATA_URL is its own prefix (`urlFor`).
 */
export class MetadataService {
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  static async start(tagsOf: (dropletId: string) => string[] | undefined): Promise<MetadataService> {
    const server = http.createServer((req, res) => {
      const m = /^\/([^/]+)\/metadata\/v1\/tags$/.exec(req.url ?? "");
      const tags = m && req.method === "GET" ? tagsOf(decodeURIComponent(m[1]!)) : undefined;
      if (!tags) {
        res.writeHead(404).end("not found\n");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" }).end(tags.map((t) => `${t}\n`).join(""));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return new MetadataService(server, (server.address() as net.AddressInfo).port);
  }

  urlFor(dropletId: string): string {
    return `http://127.0.0.1:${this.port}/${encodeURIComponent(dropletId)}/metadata/v1`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
