import * as net from "node:net";

/**
 * A TCP forwarder on loopback standing for a private DNS name (db-primary.int): each new
 * connection goes to the port `target()` names at that moment, as a client resolving the name
 * afresh would reach the record's current address. No target: the connection is refused.
 */
export class NameForwarder {
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: () => number | undefined): Promise<NameForwarder> {
    const server = net.createServer((c) => {
      const to = target();
      if (to === undefined) {
        c.destroy();
        return;
      }
      const u = net.connect(to, "127.0.0.1");
      c.pipe(u);
      u.pipe(c);
      u.on("error", () => c.destroy());
      c.on("error", () => u.destroy());
      u.on("close", () => c.destroy());
      c.on("close", () => u.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return new NameForwarder(server, (server.address() as net.AddressInfo).port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
