import * as net from "node:net";

/**
 * A TCP forwarder on loopback that a test can partition: `partition()` stops moving bytes both
 * ways while every connection stays open (as a network that drops packets does, before any
 * timeout notices), and `sever()` then closes them, dropping whatever was held back.
 */
export class PausableLink {
  private readonly pairs: Array<[net.Socket, net.Socket]> = [];
  private partitioned = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<PausableLink> {
    let link: PausableLink | undefined;
    const server = net.createServer((c) => link!.accept(c, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    link = new PausableLink(server, (server.address() as net.AddressInfo).port);
    return link;
  }

  private accept(c: net.Socket, targetPort: number): void {
    if (this.partitioned) {
      c.destroy();
      return;
    }
    const u = net.connect(targetPort, "127.0.0.1");
    // Forward by hand rather than pipe(): a partition must hold bytes already read, not flush them.
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on("data", (chunk) => {
        if (!this.partitioned) to.write(chunk);
      });
    forward(c, u);
    forward(u, c);
    for (const [a, b] of [
      [c, u],
      [u, c],
    ] as const) {
      a.on("error", () => b.destroy());
      a.on("close", () => b.destroy());
    }
    this.pairs.push([c, u]);
  }

  /** From now on nothing crosses; connections stay open. */
  partition(): void {
    this.partitioned = true;
    for (const [a, b] of this.pairs) {
      a.pause();
      b.pause();
    }
  }

  /** Closes every connection (what was held back is lost) and refuses new ones. */
  sever(): void {
    this.partitioned = true;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
  }

  close(): Promise<void> {
    this.sever();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
