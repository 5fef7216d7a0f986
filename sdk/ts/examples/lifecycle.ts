// The seeds' lifecycle import list (docs 002 and 004), verbatim but for the
// import path; then the five stages it names, once each.
import {
  provisionSandbox, startSandbox, execInSandboxAsync,
  stopSandbox, deprovisionSandbox,
} from 'cordon-sandbox';

const { sandboxId } = await provisionSandbox('process', {});
await startSandbox(sandboxId);
const result = await execInSandboxAsync(sandboxId, { process: { commandLine: 'echo hello from a long-lived sandbox' } });
process.stdout.write(result.stdout);
await stopSandbox(sandboxId);
await deprovisionSandbox(sandboxId);
console.log('exit:', result.exitCode);
