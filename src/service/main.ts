import { startServiceProcess } from "./run-process";

// `node dist/src/service/main.js --role=all|api|worker`: the service with the repo's site programs.
startServiceProcess();
