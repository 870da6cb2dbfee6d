// pulumi-language-nodejs for stackyard: the engine starts it as `pulumi-language-nodejs [flags] <engine>`
// and reads the port it listens on from the first line of stdout.
import * as grpc from "@grpc/grpc-js";
import * as langrpc from "@pulumi/pulumi/proto/language_grpc_pb";
import { exitWithParent } from "../../infra/exit-with-parent";
import { PULUMI_VERSION } from "../../infra/paths";
import { LanguageService } from "./language-service";

function engineAddressFrom(argv: string[]): string {
  const positional = argv.filter((a) => !a.startsWith("-"));
  const address = positional[positional.length - 1];
  if (!address) {
    process.stderr.write("usage: pulumi-language-nodejs [flags] <engine address>\n");
    process.exit(2);
  }
  return address;
}

function main(): void {
  // The engine passes its address as the last argument (any flags come first, as -flag=value).
  const service = new LanguageService(engineAddressFrom(process.argv.slice(2)), PULUMI_VERSION);
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(langrpc.LanguageRuntimeService, service as unknown as grpc.UntypedServiceImplementation);
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      process.stderr.write(`language host could not listen: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write(`${port}\n`);
  });
  const stop = () => server.tryShutdown(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // Policy packs run here for the service's engine runs too; an engine killed mid-run must not leave us behind.
  exitWithParent();
}

main();
