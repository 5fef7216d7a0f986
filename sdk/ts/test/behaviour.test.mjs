// Shared behaviour tests for MXC's v1 API. Run against cordon's SDK
// (default), or with SDK_UNDER_TEST=mxc-ffi against MXC's own published
// SDK 1.0.1 loading cordon's libmxc_ffi.so (MXC_FFI_DIR), or
// SDK_UNDER_TEST=mxc against MXC's SDK with its own library, where the host
// allows (scripts/against-mxc.sh runs all three). Where the two SDKs
// differ, the test asserts each one's behaviour by name (`differs`), so a
// difference is documented here and in README.md, never hidden.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scratch, gone, marker, running } from './helpers.mjs';

export const sdkName = process.env.SDK_UNDER_TEST ?? 'cordon';
const modulePath = {
  cordon: new URL('../dist/v1/index.js', import.meta.url).href,
  mxc: process.env.MXC_SDK_V1 ?? 'mxc-sdk-1/v1',
  'mxc-ffi': process.env.MXC_SDK_V1 ?? 'mxc-sdk-1/v1',
}[sdkName];
const sdk = await import(modulePath);
const onCordon = sdkName !== 'mxc';

/** Pick the expectation of the SDK under test. */
function differs(table) {
  return sdkName in table ? table[sdkName] : table.default;
}

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

test('getPlatformSupport: supported, with the backends that run here', () => {
  const support = sdk.getPlatformSupport();
  assert.equal(support.isSupported, true, JSON.stringify(support));
  assert.ok(support.availableMethods.length > 0);
  if (onCordon && sdkName === 'cordon') {
    assert.deepEqual(support.availableMethods.slice(0, 1), ['process']);
  }
});

test('run: exit code and separate stdout and stderr', async () => {
  const out = await sdk.run({ command: 'echo to-out; echo to-err >&2; exit 7', timeoutMs: 60_000 });
  assert.equal(out.exitCode, 7);
  assert.equal(out.stdout, 'to-out\n');
  assert.equal(out.stderr, 'to-err\n');
  assert.equal(out.timedOut, false);
  assert.ok(Array.isArray(out.warnings));
});

test('run: environment and working directory reach the command', async () => {
  const dir = scratch();
  const out = await sdk.run({
    command: 'echo "$GREETING"; pwd',
    environment: { GREETING: 'hi-there', PATH: '/usr/bin:/bin' },
    workingDirectory: dir,
    filesystem: { readonlyPaths: [dir] },
  });
  assert.equal(out.exitCode, 0, out.stderr);
  assert.equal(out.stdout, `hi-there\n${dir}\n`);
});

test('run: a timeout kills the command and says so', async () => {
  const started = Date.now();
  const out = await sdk.run({ command: 'sleep 30', timeoutMs: 500 });
  assert.equal(out.timedOut, true);
  assert.notEqual(out.exitCode, 0);
  assert.ok(Date.now() - started < 20_000, 'the timeout fired late');
});

test('run: a path outside the policy is denied; the same read inside it works (control)', async () => {
  const dir = scratch();
  const secret = path.join(dir, 'secret.txt');
  fs.writeFileSync(secret, 'top-secret');
  fs.chmodSync(secret, 0o644);
  const denied = await sdk.run({ command: `cat ${secret}` });
  assert.notEqual(denied.exitCode, 0, 'a file outside the policy was readable');
  assert.doesNotMatch(denied.stdout, /top-secret/);
  const allowed = await sdk.run({ command: `cat ${secret}`, filesystem: { readonlyPaths: [dir] } });
  assert.equal(allowed.exitCode, 0, allowed.stderr);
  assert.equal(allowed.stdout, 'top-secret');
  const write = await sdk.run({ command: `echo x > ${dir}/new`, filesystem: { readonlyPaths: [dir] } });
  assert.notEqual(write.exitCode, 0, 'a read-only path was writable');
  assert.equal(fs.existsSync(path.join(dir, 'new')), false);
});

test('run: a missing read-only path is refused with policy_validation naming it', async () => {
  await assert.rejects(sdk.run({ command: 'true', filesystem: { readonlyPaths: ['/no/such/dir'] } }), (e) => {
    assert.ok(e instanceof sdk.MxcError, String(e));
    assert.equal(e.code, differs({ mxc: e.code, default: 'policy_validation' }));
    assert.match(e.message, /\/no\/such\/dir/);
    return true;
  });
});

test('spawn: streams stdout and stderr separately and takes stdin', async () => {
  const proc = await sdk.spawn({ command: 'read line; echo "got:$line"; echo err-line >&2; exit 4' });
  const out = collect(proc.standardOutput);
  const err = collect(proc.standardError);
  proc.standardInput.end('hello\n');
  const result = await proc.wait();
  assert.deepEqual(result, { exitCode: 4, timedOut: false });
  assert.equal(await out, 'got:hello\n');
  assert.equal(await err, 'err-line\n');
  proc.dispose();
});

test('spawn: kill() ends the whole sandbox, leaving no process', async () => {
  const tag = marker('sdk-kill');
  const proc = await sdk.spawn({ command: `sh -c 'sleep 300; echo ${tag}' & sleep 300 # ${tag}` });
  const out = collect(proc.standardOutput);
  await running(tag);
  proc.kill();
  const result = await proc.wait();
  assert.notEqual(result.exitCode, 0);
  await out;
  assert.ok(await gone(tag), `processes of the killed sandbox remain: ${tag}`);
  proc.dispose();
});

test('spawnWithPty: the command has a terminal, output arrives, resize passes through', async () => {
  const proc = await sdk.spawnWithPty(
    { command: 'test -t 0 && echo is-a-tty; stty size; while read x; do echo "typed:$x"; stty size; done' },
    { size: { rows: 30, columns: 100 } },
  );
  let text = '';
  proc.output.on('data', (d) => (text += d));
  const until = async (re, poke) => {
    const end = Date.now() + 20_000;
    while (!re.test(text) && Date.now() < end) {
      if (poke) poke();
      await new Promise((r) => setTimeout(r, poke ? 200 : 20));
    }
  };
  await until(/30 100/);
  proc.resize({ rows: 40, columns: 120 });
  // Each line typed makes the command print its size again, until the
  // resize has reached it (a signal, so not ordered with the input).
  await until(/40 120/, () => proc.input.write('abc\r'));
  proc.input.write('\x04');
  const result = await proc.wait();
  assert.equal(result.exitCode, 0, text);
  assert.match(text, /is-a-tty/);
  assert.match(text, /30 100/);
  assert.match(text, /40 120/);
  assert.match(text, /typed:abc/);
  proc.dispose();
});
