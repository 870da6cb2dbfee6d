import type { Recorded } from "./harness";

// DigitalOcean Cloud Firewall semantics over registered resources, as the cloud applies them: a
// droplet is behind every firewall that targets one of its tags; traffic is allowed when any such
// firewall has an inbound rule for the protocol whose port range covers the port and whose
// sources name one of the sender's tags or an address range holding the sender's address.
// Everything else is dropped.

export interface Sender {
  tags?: string[];
  /** An IPv4 address (for `sourceAddresses`). */
  address?: string;
}

function inRange(portRange: string | undefined, port: number): boolean {
  if (portRange === undefined || portRange === "all") return true;
  const [lo, hi] = portRange.split("-").map(Number);
  return port >= lo! && port <= (hi ?? lo)!;
}

function ipv4InCidr(ip: string, cidr: string): boolean {
  if (cidr.includes(":")) return false;
  const [base, bits] = cidr.split("/");
  const n = (a: string) => a.split(".").reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (n(ip) & mask) === (n(base!) & mask);
}

/** Whether `from` may open a TCP connection to a droplet with tags `toTags` on `port`. */
export function admits(firewalls: Recorded[], toTags: string[], port: number, from: Sender): boolean {
  return firewalls
    .filter((fw) => (fw.inputs.tags ?? []).some((t: string) => toTags.includes(t)))
    .some((fw) =>
      (fw.inputs.inboundRules ?? []).some(
        (r: any) =>
          r.protocol === "tcp" &&
          inRange(r.portRange, port) &&
          (((r.sourceTags ?? []) as string[]).some((t) => from.tags?.includes(t)) ||
            (from.address !== undefined &&
              ((r.sourceAddresses ?? []) as string[]).some((c) => ipv4InCidr(from.address!, c)))),
      ),
    );
}

/** Inbound TCP ports (other than SSH) a droplet accepts from anyone at all. */
export function openPorts(firewalls: Recorded[], toTags: string[]): string[] {
  return firewalls
    .filter((fw) => (fw.inputs.tags ?? []).some((t: string) => toTags.includes(t)))
    .flatMap((fw) => (fw.inputs.inboundRules ?? []).map((r: any) => r.portRange as string))
    .filter((p) => p !== "22");
}
