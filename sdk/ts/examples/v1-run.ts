// MXC 1.0.1's README `run(request)` sample, verbatim but for the import path.
import { getPlatformSupport } from 'cordon-sandbox/v1';
import { run } from 'cordon-sandbox/v1';
import type { ContainerRequest } from 'cordon-sandbox/v1';

if (!getPlatformSupport().isSupported) {
  throw new Error('MXC is not available on this host');
}

const request: ContainerRequest = {
  filesystem: { readonlyPaths: [process.cwd()] },
  network: { egress: { default: 'deny' } },
  timeoutMs: 30_000,
  command: 'node -e "console.log(\'hello from container\')"',
};

const output = await run(request);
console.log(output.stdout, output.exitCode);
