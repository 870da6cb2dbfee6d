import type { TouchRule } from "./types";

/**
 * What a database-topology change may touch: database hosts change only in place (role tags),
 * private DNS records and firewalls follow the roles, managed replicas come and go. Never a
 * delete or replace of a database host or volume.
 */
export const DB_TOPOLOGY_TOUCHES: TouchRule[] = [
  {
    ops: ["update"],
    types: [
      "digitalocean:index/droplet:Droplet",
      "digitalocean:index/firewall:Firewall",
      "digitalocean:index/databaseFirewall:DatabaseFirewall",
      "digitalocean:index/databaseCluster:DatabaseCluster",
      "digitalocean:index/databaseReplica:DatabaseReplica",
      "digitalocean:index/projectResources:ProjectResources",
      "kubernetes:core/v1:Secret",
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:apps/v1:Deployment",
      "stackyard:*",
    ],
  },
  // Access rules, not data: a managed cluster's trusted sources change by replacing its firewall (the fence).
  {
    ops: ["create", "update", "delete", "replace", "create-replacement", "delete-replaced"],
    types: ["digitalocean:index/dnsRecord:DnsRecord", "digitalocean:index/databaseFirewall:DatabaseFirewall"],
  },
];

/** Adding a replica also creates its host, volume and attachment (or a managed replica and its firewall). */
export const ADD_REPLICA_TOUCHES: TouchRule[] = [
  ...DB_TOPOLOGY_TOUCHES,
  {
    ops: ["create"],
    types: [
      "digitalocean:index/droplet:Droplet",
      "digitalocean:index/volume:Volume",
      "digitalocean:index/volumeAttachment:VolumeAttachment",
      "digitalocean:index/databaseReplica:DatabaseReplica",
      "digitalocean:index/databaseFirewall:DatabaseFirewall",
      "stackyard:*",
    ],
  },
];

/** Removing a managed replica deletes it; a self-managed node is kept (protected) and fenced. */
export const REMOVE_REPLICA_TOUCHES: TouchRule[] = [
  ...DB_TOPOLOGY_TOUCHES,
  {
    ops: ["delete"],
    types: [
      "digitalocean:index/databaseReplica:DatabaseReplica",
      "digitalocean:index/databaseFirewall:DatabaseFirewall",
      "stackyard:*",
    ],
  },
];
