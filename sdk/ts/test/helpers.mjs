// Shared by the tests: the SDK under test, scratch directories, and a
// check that no process of a sandbox outlives it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

const here = path.dirname(new URL(import.meta.url).pathname);

/** The cordon binary under test (CORDON_BIN, else the repo's release build). */
export const cordon = process.env.CORDON_BIN ?? path.resolve(here, '../../../target/release/cordon');
if (!fs.existsSync(cordon)) {
  throw new Error(`cordon binary ${cordon} is missing: build it (scripts/build-release.sh) or set CORDON_BIN`);
}
process.env.CORDON_BIN = cordon;

/** A scratch directory others can read, removed at exit. */
const dirs = [];
export function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cordon-sdk-test-'));
  fs.chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}
process.on('exit', () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Pids whose command line contains `marker` (the sandbox's processes). */
export function pidsWith(marker) {
  const found = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(marker)) found.push(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Wait until no process carries `marker` (or fail after `ms`). */
export async function gone(marker, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pidsWith(marker).length === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** cordon's own CLI, for cleanup and cross-checks. */
export function cordonCli(...args) {
  return execFileSync(cordon, args, { encoding: 'utf8' });
}

/** Whether a string marker is unique to this test run. */
export function marker(name) {
  return `${name}-${process.pid}-${Math.random().toString(16).slice(2)}`;
}

/** Until a process carries `marker` (the control of a kill test). */
export async function running(marker, ms = 30_000) {
  const end = Date.now() + ms;
  while (pidsWith(marker).length === 0) {
    if (Date.now() > end) throw new Error(`control: no process carrying ${marker} ever ran`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
