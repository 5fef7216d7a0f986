// The seeds' hello-from-sandbox sample (docs 000 and 004), verbatim but for
// the import path and python -> python3 (Debian has no `python`).
import {
  createConfigFromPolicy,
  getAvailableToolsPolicy,
  getTemporaryFilesPolicy,
  spawnSandboxFromConfig,
} from "cordon-sandbox";

const tools = getAvailableToolsPolicy(process.env);
const temp = getTemporaryFilesPolicy();

const config = createConfigFromPolicy({
  version: "0.6.0-alpha",
  filesystem: {
    readonlyPaths: tools.readonlyPaths,
    readwritePaths: temp.readwritePaths,
  },
  network: { allowOutbound: false },
  timeoutMs: 30000,
});

config.process!.commandLine = "python3 -c \"print('hello from sandbox')\"";

const child = spawnSandboxFromConfig(config, { usePty: false });
child.stdout!.on("data", (data) => process.stdout.write(data));
