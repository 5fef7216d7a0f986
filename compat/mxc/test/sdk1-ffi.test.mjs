// MXC's TypeScript SDK 1.0.1, unchanged, running its requests on cordon:
// MXC_FFI_DIR points at a directory holding cordon's libmxc_ffi.so
// (crates/cordon-ffi, $CORDON_FFI_LIB) and the cordon binary under test,
// so the SDK's run() goes through cordon's boundary. Each behaviour has a
// control: the same request where it must succeed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cordon, scratch } from '../lib/harness.mjs';

const library = process.env.CORDON_FFI_LIB ??
  path.resolve(import.meta.dirname, '../../../target/release/libmxc_ffi.so');
if (!fs.existsSync(library)) {
  throw new Error(`${library} is missing: build it (cargo build --release -p cordon-ffi) or set CORDON_FFI_LIB`);
}
const ffiDir = scratch();
fs.copyFileSync(library, path.join(ffiDir, 'libmxc_ffi.so'));
fs.symlinkSync(cordon, path.join(ffiDir, 'cordon'));
process.env.MXC_FFI_DIR = ffiDir;

const mxc = await import('mxc-sdk-1/v1');

test('run() captures stdout, stderr and the exit code through cordon', async () => {
  const out = await mxc.run({
    command: 'echo "out $((6 * 7))"; echo err >&2; exit 3',
    timeoutMs: 30_000,
  });
  assert.equal(out.stdout, 'out 42\n');
  assert.match(out.stderr, /err\n/);
  assert.equal(out.exitCode, 3);
  assert.equal(out.timedOut, false);
});

test('run() is bounded by cordon: a path not granted is invisible, a granted one is read', async () => {
  const dir = scratch();
  fs.writeFileSync(path.join(dir, 'secret'), 'the secret\n');
  fs.chmodSync(path.join(dir, 'secret'), 0o644);
  const probe = `cat ${dir}/secret 2>/dev/null || echo hidden`;
  const denied = await mxc.run({ command: probe, timeoutMs: 30_000 });
  assert.equal(denied.stdout, 'hidden\n');
  const granted = await mxc.run({
    command: probe,
    filesystem: { readonlyPaths: [dir] },
    timeoutMs: 30_000,
  });
  assert.equal(granted.stdout, 'the secret\n');
});

test('run() reports a timeout as cordon enforces it: the whole sandbox killed', async () => {
  const started = Date.now();
  const out = await mxc.run({ command: 'sleep 30', timeoutMs: 300 });
  assert.equal(out.timedOut, true);
  assert.equal(out.exitCode, 124);
  assert.ok(Date.now() - started < 10_000);
});

test('a refusal reaches the SDK as its MxcError with the error code', async () => {
  await assert.rejects(
    mxc.run({ command: 'true', filesystem: { readonlyPaths: ['/does/not/exist'] }, timeoutMs: 30_000 }),
    (e) => e instanceof mxc.MxcError && e.code === 'policy_validation' && /does\/not\/exist/.test(e.message),
  );
});

/** Everything a stream gives until it ends. */
function collect(stream) {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => { text += chunk; });
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

test('spawn() streams stdout and stderr apart and takes stdin', async () => {
  const proc = await mxc.spawn({ command: 'read line; echo "got $line"; echo warn >&2; exit 5', timeoutMs: 30_000 });
  try {
    assert.ok(proc.id > 0);
    const out = collect(proc.standardOutput);
    const err = collect(proc.standardError);
    proc.standardInput.end('hello\n');
    const result = await proc.wait();
    assert.deepEqual(result, { exitCode: 5, timedOut: false });
    assert.equal(await out, 'got hello\n');
    assert.match(await err, /warn\n/);
  } finally {
    proc.dispose();
  }
});

test('kill() ends the whole sandbox: a daemon it started dies too', async () => {
  const marker = `cordon-ffi-${process.pid}-${Date.now()}`;
  const proc = await mxc.spawn({
    command: `setsid sh -c 'sleep 60; : ${marker}-daemon' & echo started; sleep 60`,
    timeoutMs: 60_000,
  });
  const { execFileSync } = await import('node:child_process');
  const alive = () => {
    try {
      execFileSync('pgrep', ['-f', `${marker}-daemon`]);
      return true;
    } catch {
      return false;
    }
  };
  try {
    const out = proc.standardOutput;
    await new Promise((resolve) => out.once('data', resolve));
    assert.equal(alive(), true, 'the control: the daemon runs');
    proc.kill();
    const result = await proc.wait();
    assert.notEqual(result.exitCode, 0);
  } finally {
    proc.dispose();
  }
  for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(), false, 'a process of the killed sandbox survived');
});

test('spawn() of a refused request rejects with the MxcError at once', async () => {
  await assert.rejects(
    mxc.spawn({ command: 'true', filesystem: { readwritePaths: ['/does/not/exist'] }, timeoutMs: 30_000 }),
    (e) => e instanceof mxc.MxcError && e.code === 'policy_validation',
  );
});

test('spawn() starts nothing unless cordon confirms the check: an exit status of 0 is not enough', async () => {
  // A program that exits 0 to everything (not cordon) stands in for the binary.
  const dir = scratch();
  const fake = path.join(dir, 'not-cordon');
  const ran = path.join(dir, 'ran');
  fs.writeFileSync(fake, `#!/bin/sh\necho "$*" >> '${ran}'\nexit 0\n`, { mode: 0o755 });
  const real = process.env.CORDON_BIN;
  process.env.CORDON_BIN = fake;
  try {
    await assert.rejects(
      mxc.spawn({ command: 'true', timeoutMs: 30_000 }),
      (e) => e instanceof mxc.MxcError && /did not confirm the check/.test(e.message),
    );
  } finally {
    if (real === undefined) delete process.env.CORDON_BIN; else process.env.CORDON_BIN = real;
  }
  // Only the check was asked for; nothing was started after it.
  assert.deepEqual(fs.readFileSync(ran, 'utf8').trim().split('\n').map((l) => /--dry-run/.test(l)), [true]);
  // The control: the same request on cordon passes the check and runs.
  const proc = await mxc.spawn({ command: 'true', timeoutMs: 30_000 });
  try {
    assert.equal((await proc.wait()).exitCode, 0);
  } finally {
    proc.dispose();
  }
});

test('spawn() with a timeout ends timed out, and dispose() of a live run leaves nothing', async () => {
  const timed = await mxc.spawn({ command: 'sleep 30', timeoutMs: 300 });
  try {
    const result = await timed.wait();
    assert.equal(result.timedOut, true);
  } finally {
    timed.dispose();
  }
  const marker = `cordon-ffi-dispose-${process.pid}-${Date.now()}`;
  const live = await mxc.spawn({ command: `sleep 60; : ${marker}`, timeoutMs: 60_000 });
  const { execFileSync } = await import('node:child_process');
  const alive = () => {
    try {
      execFileSync('pgrep', ['-f', marker]);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 50 && !alive(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(), true, 'the control: the run is up');
  live.dispose();
  for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(), false, 'dispose() left the run behind');
});

test('getAvailableBackends() answers with cordon\'s discovery through the library', async () => {
  const { cordonCli } = await import('../lib/harness.mjs');
  const expected = JSON.parse(cordonCli('--available-backends'));
  const backends = mxc.getAvailableBackends();
  assert.equal(backends.length, expected.length);
  // The SDK knows only its own backend names: cordon's `native` reads as
  // `unknown` there (a documented difference); capabilities carry over.
  backends.forEach((b, i) => {
    assert.equal(b.backend, expected[i].backend === 'native' ? 'unknown' : expected[i].backend);
    assert.deepEqual(b.capabilities, expected[i].capabilities);
  });
});

test('spawnWithPty() gives the workload a terminal: input, merged output, resize', async () => {
  const proc = await mxc.spawnWithPty(
    {
      command: 'test -t 0 && echo tty=yes; stty size; read line; echo "got=$line"; stty size; echo oops >&2; exit 4',
      timeoutMs: 30_000,
    },
    { size: { rows: 30, columns: 100 } },
  );
  try {
    let text = '';
    const out = proc.output;
    out.setEncoding('utf8');
    const seen = (needle) => new Promise((resolve) => {
      const check = () => { if (text.includes(needle)) { out.off('data', onData); resolve(); } };
      const onData = (chunk) => { text += chunk; check(); };
      out.on('data', onData);
      check();
    });
    await seen('30 100');
    proc.resize({ rows: 40, columns: 120 });
    // The control above: the first size was the one asked for.
    await new Promise((r) => setTimeout(r, 300));
    proc.input.write('hello\n');
    await seen('oops');
    const result = await proc.wait();
    assert.equal(result.exitCode, 4);
    const lines = text.replace(/\r/g, '');
    assert.match(lines, /tty=yes\n/);
    assert.match(lines, /got=hello\n/);
    assert.match(lines, /40 120\n/);
    assert.match(lines, /oops\n/, 'stderr shares the terminal');
  } finally {
    proc.dispose();
  }
});
