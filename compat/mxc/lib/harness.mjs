// Shared setup: MXC's SDKs find their Linux runner at
// $MXC_BIN_DIR/x64/lxc-exec. Point it at a wrapper that records each
// invocation and execs the cordon binary under test ($CORDON_BIN).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

export const cordon = process.env.CORDON_BIN ??
  path.resolve(import.meta.dirname, '../../../target/release/cordon');
if (!fs.existsSync(cordon)) {
  throw new Error(`cordon binary ${cordon} is missing: build it (scripts/build-release.sh) or set CORDON_BIN`);
}

export const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cordon-mxc-bin-'));
export const invocations = path.join(binDir, 'invocations.log');
fs.mkdirSync(path.join(binDir, 'x64'));
fs.writeFileSync(
  path.join(binDir, 'x64', 'lxc-exec'),
  `#!/bin/sh\nprintf '%s\\n' "$*" >> '${invocations}'\nexec '${cordon}' "$@"\n`,
  { mode: 0o755 },
);
process.env.MXC_BIN_DIR = binDir;

/** What the wrapper recorded, one line per invocation. */
export function recorded() {
  return fs.existsSync(invocations) ? fs.readFileSync(invocations, 'utf8').trim().split('\n') : [];
}

const scratchDirs = [];

/** A scratch directory, removed when the process exits. */
export function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cordon-mxc-'));
  fs.chmodSync(dir, 0o755);
  scratchDirs.push(dir);
  return dir;
}

process.on('exit', () => {
  for (const dir of [binDir, ...scratchDirs]) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The cordon CLI itself, for cleanup the SDK cannot do. */
export function cordonCli(...args) {
  return execFileSync(cordon, args, { encoding: 'utf8' });
}
