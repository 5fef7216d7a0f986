// The seeds' code samples and MXC 1.0.1's README `run` sample, compiled
// from examples/*.ts (verbatim but for the import path and python3) and
// run against the real binary, producing their expected output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import './helpers.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const run = promisify(execFile);

async function sample(name) {
  const before = new Set(fs.readdirSync('/tmp').filter((f) => f.startsWith('cordon-sandbox-')));
  try {
    return await run(process.execPath, [path.join(root, 'dist-examples', `${name}.js`)], { cwd: root, timeout: 120_000 });
  } finally {
    // getTemporaryFilesPolicy() makes a directory for the caller to remove.
    for (const f of fs.readdirSync('/tmp')) {
      if (f.startsWith('cordon-sandbox-') && !before.has(f)) fs.rmSync(path.join('/tmp', f), { recursive: true, force: true });
    }
  }
}

test('hello from sandbox: tools and temp policies, spawnSandboxFromConfig without a PTY', async () => {
  const { stdout } = await sample('hello');
  assert.equal(stdout, 'hello from sandbox\n');
});

test('the README sample: platform check, the same policy, exit code logged', async () => {
  const { stdout } = await sample('readme-sdk');
  assert.equal(stdout, 'hello from sandbox\nexit: 0\n');
});

test('"Your first sandbox": its Windows paths are refused by name on Linux (exit 125)', async () => {
  // The sample reads only stdout; cordon's message (naming the path) goes
  // to the child's stderr, which the sample leaves unread.
  const { stdout } = await sample('first-sandbox');
  assert.equal(stdout, 'exit: 125\n');
});

test('the lifecycle import list, then its five stages', async () => {
  const { stdout } = await sample('lifecycle');
  assert.equal(stdout, 'hello from a long-lived sandbox\nexit: 0\n');
});

test('MXC 1.0.1 README: run(request)', async () => {
  const { stdout } = await sample('v1-run');
  assert.equal(stdout, 'hello from container\n 0\n');
});
