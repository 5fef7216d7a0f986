// The root export (MXC's 0.x names) on the real cordon binary: every
// function at least once, streams, stdin, env, cwd, a timeout, a denied
// path with its control, dryRun, debug/logDir, errors, and the lifecycle
// with and without a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scratch, gone, marker, running } from './helpers.mjs';

const sdk = await import('../dist/index.js');

function collect(child) {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

function ptyText(pty) {
  return new Promise((resolve) => {
    let text = '';
    pty.onData((d) => (text += d));
    pty.onExit((e) => resolve({ text, exitCode: e.exitCode }));
  });
}

const policy = { version: '0.6.0-alpha' };

test('createConfigFromPolicy and buildSandboxPayload copy the policy into a config', () => {
  const config = sdk.createConfigFromPolicy({ ...policy, filesystem: { readonlyPaths: ['/usr'] }, network: { allowOutbound: false }, timeoutMs: 5 }, 'process', 'name1');
  assert.equal(config.containerId, 'name1');
  assert.deepEqual(config.filesystem.readonlyPaths, ['/usr']);
  assert.deepEqual(config.network, { defaultPolicy: 'block' });
  assert.equal(config.process.timeout, 5);
  const payload = sdk.buildSandboxPayload('echo x', { version: '0.8.0-alpha', network: { egress: { default: 'deny' } } }, '/tmp');
  assert.equal(payload.process.commandLine, 'echo x');
  assert.equal(payload.process.cwd, '/tmp');
  assert.deepEqual(payload.network, { egress: { default: 'deny' }, ingress: undefined });
  assert.throws(() => sdk.createConfigFromPolicy({}), (e) => e instanceof sdk.MxcError && e.code === 'malformed_request');
});

test('spawnSandboxFromConfig without a PTY: separate streams, stdin, env, cwd, exit code', async () => {
  const dir = scratch();
  const config = sdk.createConfigFromPolicy({ ...policy, filesystem: { readonlyPaths: [dir] } });
  config.process.commandLine = 'read l; echo "$l:$X"; pwd; echo e >&2; exit 6';
  const child = sdk.spawnSandboxFromConfig(config, { usePty: false }, dir, { X: 'env', PATH: '/usr/bin:/bin' });
  child.stdin.end('in\n');
  const { stdout, stderr, code } = await collect(child);
  assert.equal(code, 6);
  assert.equal(stdout, `in:env\n${dir}\n`);
  assert.equal(stderr, 'e\n');
});

test('spawnSandboxFromConfig with a PTY (default) and spawnSandbox: a terminal inside', async () => {
  const config = sdk.createConfigFromPolicy(policy);
  config.process.commandLine = 'test -t 1 && echo on-a-tty; exit 3';
  const first = await ptyText(sdk.spawnSandboxFromConfig(config));
  assert.equal(first.exitCode, 3);
  assert.match(first.text, /on-a-tty/);
  const second = await ptyText(sdk.spawnSandbox('stty size', policy, { ptyOptions: { cols: 91, rows: 21 } }));
  assert.equal(second.exitCode, 0);
  assert.match(second.text, /21 91/);
});

test('spawnSandboxAsync: output, a timeout, a denied path and its control', async () => {
  const r = await sdk.spawnSandboxAsync('echo hi; echo oops >&2; exit 2', policy);
  assert.deepEqual(r, { stdout: 'hi\n', stderr: 'oops\n', exitCode: 2 });
  const t0 = Date.now();
  const timed = await sdk.spawnSandboxAsync('sleep 30', { ...policy, timeoutMs: 300 });
  assert.notEqual(timed.exitCode, 0);
  assert.ok(Date.now() - t0 < 20_000);
  const dir = scratch();
  fs.writeFileSync(path.join(dir, 's'), 'secret');
  fs.chmodSync(path.join(dir, 's'), 0o644);
  const denied = await sdk.spawnSandboxAsync(`cat ${dir}/s`, policy);
  assert.notEqual(denied.exitCode, 0);
  const allowed = await sdk.spawnSandboxAsync(`cat ${dir}/s`, { ...policy, filesystem: { readonlyPaths: [dir] } });
  assert.equal(allowed.stdout, 'secret');
});

test('dryRun checks and runs nothing; debug with logDir writes cordon\'s log', async () => {
  const dir = scratch();
  const r = await sdk.spawnSandboxAsync(`touch ${dir}/ran`, { ...policy, filesystem: { readwritePaths: [dir] } }, { dryRun: true });
  assert.equal(r.exitCode, 0);
  assert.equal(fs.existsSync(path.join(dir, 'ran')), false);
  await assert.rejects(sdk.spawnSandboxAsync('true', { ...policy, filesystem: { readonlyPaths: ['/nope'] } }, { dryRun: true }), (e) => e.code === 'policy_validation');
  const logs = scratch();
  await sdk.spawnSandboxAsync('true', policy, { debug: true, logDir: logs });
  const files = fs.readdirSync(logs);
  assert.equal(files.length, 1);
  assert.match(fs.readFileSync(path.join(logs, files[0]), 'utf8'), /"policy"/);
});

test('abort: a signal stops a ChildProcess run and leaves no process', async () => {
  const tag = marker('sdk0-abort');
  const controller = new AbortController();
  const config = sdk.createConfigFromPolicy(policy);
  config.process.commandLine = `sleep 300 # ${tag}`;
  const child = sdk.spawnSandboxFromConfig(config, { usePty: false, signal: controller.signal });
  const done = collect(child);
  await running(tag);
  controller.abort();
  await done;
  assert.ok(await gone(tag), 'processes remain after abort');
});

test('lifecycle: provision, start, exec (captured and on a terminal), stop, deprovision', async () => {
  const { sandboxId } = await sdk.provisionSandbox('process', {});
  try {
    await sdk.startSandbox(sandboxId);
    const r = await sdk.execInSandboxAsync(sandboxId, { process: { commandLine: 'echo "$A"; exit 5', env: ['A=ok'] } });
    assert.deepEqual(r, { stdout: 'ok\n', stderr: '', exitCode: 5 });
    const t = await ptyText(sdk.execInSandbox(sandboxId, { process: { commandLine: 'test -t 0 && echo tty' } }));
    assert.match(t.text, /tty/);
    await sdk.stopSandbox(sandboxId);
  } finally {
    await sdk.stopSandbox(sandboxId).catch(() => {});
    await sdk.deprovisionSandbox(sandboxId);
  }
  await assert.rejects(sdk.startSandbox(sandboxId), (e) => e instanceof sdk.MxcError && e.code === 'stale_id');
});

test('platform and policy helpers, errors', () => {
  const support = sdk.getPlatformSupport();
  assert.equal(support.isSupported, true, support.reason);
  assert.ok(support.availableMethods.includes('process'));
  assert.deepEqual(support.missing, []);
  const tools = sdk.getAvailableToolsPolicy({ PATH: '/bin:.:/usr/bin' });
  assert.deepEqual(tools, { readonlyPaths: ['/bin', '/usr/bin'], readwritePaths: [] });
  const temp = sdk.getTemporaryFilesPolicy({ TMPDIR: scratch() });
  assert.equal(temp.readwritePaths.length, 1);
  assert.equal(fs.statSync(temp.tempDirectory).mode & 0o777, 0o700);
  assert.deepEqual(sdk.getUserProfilePolicy({ HOME: scratch() }), { readonlyPaths: [], readwritePaths: [] });
  const e = sdk.mxcErrorFromCode('stale_id', 'x');
  assert.ok(e instanceof sdk.MxcError && e.code === 'stale_id' && e.message === 'x');
  assert.equal(new sdk.MxcError({ code: 'backend_error', message: 'm', remediation: 'fix' }).remediation, 'fix');
  assert.equal(sdk.ERROR_CODES.length, 12);
  assert.deepEqual([...sdk.ContainmentTypes], ['process', 'vm', 'microvm']);
  assert.ok(sdk.ExperimentalBackends.includes('wslc'));
  assert.equal(typeof sdk.cordonBinary(), 'string');
});

test('getPlatformSupport says exactly what a host lacks: no bwrap on PATH, user namespaces refused', async () => {
  const { execFileSync } = await import('node:child_process');
  const os = await import('node:os');
  const dist = new URL('../dist/index.js', import.meta.url).href;
  const ask = (env) =>
    JSON.parse(
      execFileSync(process.execPath, ['-e', `import('${dist}').then(m => console.log(JSON.stringify(m.getPlatformSupport())))`], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      }),
    );
  // Control: this host lacks nothing.
  assert.deepEqual(ask({}).missing, []);
  const noBwrap = ask({ PATH: '/nonexistent' });
  assert.equal(noBwrap.isSupported, true);
  assert.ok(!noBwrap.availableMethods.includes('bubblewrap'));
  assert.match(noBwrap.unavailableReasons.bubblewrap, /bwrap is not installed/);
  assert.ok(noBwrap.missing.some((m) => /^bubblewrap: bwrap is not installed/.test(m)), JSON.stringify(noBwrap));
  // A host whose seccomp refuses namespaces (as Docker's default does):
  // cordon under the integration suites' lock script.
  const lock =
    process.env.CORDON_LOCK_SCRIPT ??
    path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../crates/cordon-cli/tests/support/lock_namespaces.py');
  assert.ok(fs.existsSync(lock), `the lock script ${lock} is missing (set CORDON_LOCK_SCRIPT)`);
  const wrapper = path.join(scratch(), 'locked-cordon');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/python3 '${lock}' '${process.env.CORDON_BIN}' "$@"\n`, { mode: 0o755 });
  const locked = ask({ CORDON_BIN: wrapper });
  assert.ok(locked.missing.some((m) => /^user namespaces: /.test(m)), JSON.stringify(locked));
  assert.ok(!locked.availableMethods.includes('bubblewrap'), JSON.stringify(locked));
  assert.ok(os.platform() === 'linux');
});
