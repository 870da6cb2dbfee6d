import type { MockResourceArgs } from "@pulumi/pulumi/runtime";

/** A stable small number per name, so two runs of the same config see the same "cloud" values. */
function hash(s: string): number {
  let h = 7;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) % 100_003;
  return h;
}

/** Provider-computed outputs the programs read, with deterministic fake values (no real hosts, no secrets). */
export const mockState = {
  id(args: MockResourceArgs): string {
    return String(100_000 + hash(`${args.type}/${args.name}`));
  },
  computed(args: MockResourceArgs): Record<string, unknown> {
    const h = hash(args.name);
    const i = args.inputs as Record<string, any>;
    switch (args.type) {
      case "digitalocean:index/droplet:Droplet":
        return {
          ipv4AddressPrivate: `10.10.${h % 16}.${(h % 250) + 2}`,
          ipv4Address: `203.0.113.${(h % 250) + 2}`,
          dropletUrn: `do:droplet:${h}`,
        };
      case "digitalocean:index/reservedIp:ReservedIp":
        return { ipAddress: "192.0.2.10" };
      case "digitalocean:index/spacesBucket:SpacesBucket":
        return { bucketDomainName: `${i.name}.${i.region}.digitaloceanspaces.com` };
      case "digitalocean:index/cdn:Cdn":
        return { endpoint: `${String(i.origin).split(".")[0]}.${"nyc3"}.cdn.digitaloceanspaces.com` };
      case "digitalocean:index/databaseCluster:DatabaseCluster":
        return {
          privateHost: `private-${i.name}.db.example.test`,
          privateUri: `${i.engine}://app@private-${i.name}.db.example.test:25060/app`,
          port: 25060,
          uuid: `${i.name}-uuid`,
        };
      case "digitalocean:index/databaseReplica:DatabaseReplica":
        return {
          privateHost: `private-${i.name}.db.example.test`,
          privateUri: `postgresql://app@private-${i.name}.db.example.test:25060/app`,
          port: 25060,
          uuid: `${i.name}-uuid`,
        };
      case "digitalocean:index/kubernetesCluster:KubernetesCluster":
        return {
          kubeConfigs: [{ rawConfig: "apiVersion: v1\nkind: Config\nclusters: []\n" }],
          endpoint: "https://k8s.example.test",
        };
      case "aws:wafv2/webAcl:WebAcl":
        return { arn: `arn:aws:wafv2:us-east-1:000000000000:global/webacl/${i.name}/${h}` };
      case "aws:s3/bucket:Bucket":
        return {
          arn: `arn:aws:s3:::${i.bucket}`,
          bucketRegionalDomainName: `${i.bucket}.s3.${i.region ?? "us-east-1"}.amazonaws.com`,
        };
      case "aws:cloudfront/distribution:Distribution":
        return {
          arn: `arn:aws:cloudfront::000000000000:distribution/E${h}`,
          domainName: `d${h}.cloudfront.example.test`,
        };
      case "linode:index/instance:Instance":
        return { ipAddress: `198.51.100.${(h % 250) + 2}`, ipv6: "2600:3c03::f03c:91ff:fe00:1/128" };
      case "hcloud:index/server:Server":
        return { ipv4Address: `198.51.100.${(h % 250) + 2}`, ipv6Address: "2a01:4f8::1" };
      // Stand-ins for provider-generated credentials (fixed per name, not real).
      case "aws:iam/accessKey:AccessKey":
        return { secret: `mock-access-key-secret-${args.name}-${h}` };
      case "digitalocean:index/spacesKey:SpacesKey":
        return { accessKey: `DO00MOCK${h}`, secretKey: `mock-spaces-secret-${args.name}-${h}` };
      default:
        return {};
    }
  },
};
