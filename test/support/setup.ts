// Loaded by mocha before any test file (see .mocharc.json).
// Tests never inherit a developer's real cloud or Pulumi settings.
for (const name of [
  "PULUMI_ACCESS_TOKEN",
  "PULUMI_BACKEND_URL",
  "PULUMI_CONFIG_PASSPHRASE",
  "DIGITALOCEAN_TOKEN",
  "LINODE_TOKEN",
  "HCLOUD_TOKEN",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "KUBECONFIG",
]) {
  delete process.env[name];
}
