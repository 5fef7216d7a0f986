// cordon-sandbox/v1 on the real cordon binary: the lifecycle (20 concurrent
// execs in one container, streaming, a terminal), cancellation, a network
// rule with its control, every error code cordon produces reached by a real
// refusal, validation, discovery, policy helpers and telemetry calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { execFileSync } from 'node:child_process';
import { scratch, gone, marker, cordonCli, running } from './helpers.mjs';

const sdk = await import('../dist/v1/index.js');

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

async function rejectsWith(promise, code, pattern) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof sdk.MxcError, `not an MxcError: ${e}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('lifecycle: provision, start, 20 concurrent execs, stream, terminal, stop, deprovision', async () => {
  const dir = scratch();
  const { containerId, warnings } = await sdk.provisionContainer({
    containment: 'process',
    filesystem: { readwritePaths: [dir] },
  });
  assert.match(containerId, /^(native|bubblewrap):[0-9a-f]+$/);
  assert.deepEqual(warnings, []);
  try {
    await sdk.validateStart(containerId);
    await sdk.startContainer(containerId);
    await sdk.validateStop(containerId);
    await sdk.validateProcess(containerId, { command: 'true' });
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sdk.runInContainer(containerId, { command: `echo n${i} > ${dir}/f${i}; cat ${dir}/f${i}; echo e${i} >&2; exit ${i % 5}` }),
      ),
    );
    runs.forEach((r, i) => {
      assert.equal(r.stdout, `n${i}\n`);
      assert.equal(r.stderr, `e${i}\n`);
      assert.equal(r.exitCode, i % 5);
    });
    assert.equal(fs.readdirSync(dir).filter((f) => /^f\d+$/.test(f)).length, 20, 'the writes landed on the host');
    // State is shared between execs of one container (its private /tmp).
    await sdk.runInContainer(containerId, { command: 'echo kept > /tmp/state' });
    const kept = await sdk.runInContainer(containerId, { command: 'cat /tmp/state', environment: { A: 'b' }, workingDirectory: '/tmp' });
    assert.equal(kept.stdout, 'kept\n');
    const proc = await sdk.spawnInContainer(containerId, { command: 'read v; echo "in:$v"; echo "$V2" >&2', environment: { V2: 'env-ok' } });
    const out = collect(proc.standardOutput);
    const err = collect(proc.standardError);
    proc.standardInput.end('streamed\n');
    assert.deepEqual(await proc.wait(), { exitCode: 0, timedOut: false });
    assert.equal(await out, 'in:streamed\n');
    assert.equal(await err, 'env-ok\n');
    const timed = await sdk.runInContainer(containerId, { command: 'sleep 30', timeoutMs: 300 });
    assert.equal(timed.timedOut, true);
    const pty = await sdk.spawnInContainerWithPty(containerId, { command: 'test -t 1 && echo tty-in-container; stty size' }, { size: { rows: 33, columns: 99 } });
    const text = await collect(pty.output);
    assert.equal((await pty.wait()).exitCode, 0, text);
    assert.match(text, /tty-in-container/);
    assert.match(text, /33 99/);
    await sdk.stopContainer(containerId);
    await rejectsWith(sdk.validateStop(containerId), 'not_started');
  } finally {
    await sdk.stopContainer(containerId).catch(() => {});
    await sdk.validateDeprovision(containerId);
    await sdk.deprovisionContainer(containerId);
  }
  await rejectsWith(sdk.validateDeprovision(containerId), 'stale_id');
  assert.doesNotMatch(cordonCli('ls'), new RegExp(containerId));
});

test('abort: an AbortSignal cancels run, and no process of the sandbox remains', async () => {
  const tag = marker('sdk-abort');
  const controller = new AbortController();
  const pending = sdk.run({ command: `sleep 300 # ${tag}` }, { signal: controller.signal });
  await running(tag);
  controller.abort(new Error('stop it'));
  await assert.rejects(pending, /stop it/);
  assert.ok(await gone(tag), `processes remain after abort: ${tag}`);
});

test('network: an egress rule admits its destination and nothing else (control: the same probe allowed)', async (t) => {
  const lab = '10.207.0.1';
  const onLo = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).includes(`${lab}/32`);
  if (!onLo) {
    if (process.getuid() !== 0) {
      assert.fail(`the lab address ${lab}/32 is not on lo; run as root, or add it (ip addr add ${lab}/32 dev lo)`);
    }
    execFileSync('ip', ['addr', 'add', `${lab}/32`, 'dev', 'lo']);
    t.after(() => execFileSync('ip', ['addr', 'del', `${lab}/32`, 'dev', 'lo']));
  }
  const server = net.createServer((s) => s.end('lab-hello\n'));
  await new Promise((r) => server.listen(0, lab, r));
  t.after(() => server.close());
  const port = server.address().port;
  const probe = `exec 3<>/dev/tcp/${lab}/${port} && cat <&3`;
  const allow = (p) => ({ egress: { default: 'deny', allow: [{ to: [{ cidr: `${lab}/32` }], ports: [{ protocol: 'tcp', port: p }] }] } });
  const ok = await sdk.run({ command: `bash -c '${probe}'`, network: allow(port), timeoutMs: 20_000 });
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.equal(ok.stdout, 'lab-hello\n');
  const blocked = await sdk.run({ command: `bash -c '${probe}'`, network: allow(port + 1), timeoutMs: 20_000 });
  assert.notEqual(blocked.exitCode, 0, 'a port the rule does not name was reachable');
  assert.doesNotMatch(blocked.stdout, /lab-hello/);
});

test('errors: each code cordon produces, reached by a real refusal', async () => {
  await rejectsWith(sdk.run({ command: '' }), 'malformed_request', /command/);
  await rejectsWith(sdk.run({ command: 'true', filesystem: { readonlyPaths: ['/no/such/path'] } }), 'policy_validation', /\/no\/such\/path/);
  await rejectsWith(sdk.run({ command: 'true', containment: { type: 'seatbelt' } }), 'unsupported_containment', /seatbelt/);
  await rejectsWith(sdk.run({ command: 'true', containment: { type: 'lxc', config: { distribution: 'alpine', release: '3.19' } } }), 'backend_unavailable', /lxc/);
  await rejectsWith(sdk.startContainer('not-an-id'), 'malformed_id');
  await rejectsWith(sdk.startContainer('native:' + '0'.repeat(32)), 'stale_id');
  const { containerId } = await sdk.provisionContainer({ containment: 'process' });
  try {
    await rejectsWith(sdk.runInContainer(containerId, { command: 'true' }), 'not_started');
    await rejectsWith(sdk.stopContainer(containerId), 'already_stopped');
    await sdk.startContainer(containerId);
    await rejectsWith(sdk.startContainer(containerId), 'already_started');
    await rejectsWith(sdk.validateStart(containerId), 'already_started');
  } finally {
    await sdk.stopContainer(containerId).catch(() => {});
    await sdk.deprovisionContainer(containerId);
  }
  // unsupported_phase: a phase cordon does not know, through the wire form.
  const { phase } = await import('../dist/envelope.js');
  await rejectsWith(phase({ version: '1.0.0', phase: 'pause', sandboxId: containerId }), 'unsupported_phase', /pause/);
  // backend_error: cordon killed from outside before it could report.
  const tag = marker('sdk-killed');
  const proc = await sdk.spawn({ command: `sleep 300 # ${tag}` });
  await running(tag);
  process.kill(proc.id, 'SIGKILL');
  await rejectsWith(proc.wait(), 'backend_error', /SIGKILL/);
  assert.ok(await gone(tag), 'the sandbox outlived its killed cordon');
  // not_provisioned is never produced: an id exists only once provisioning
  // completed; an unknown well-formed id is stale_id (README, Differences).
});

test('validateProvision: a valid request passes, a bad one is refused naming the field', async () => {
  assert.deepEqual(await sdk.validateProvision({ containment: 'process', filesystem: { readonlyPaths: ['/usr'] } }), { warnings: [] });
  await rejectsWith(sdk.validateProvision({ containment: 'process', filesystem: { readonlyPaths: ['/no/such'] } }), 'policy_validation', /\/no\/such/);
  await rejectsWith(sdk.validateProcess('native:' + '1'.repeat(32), { command: 'true' }), 'stale_id');
});

test('discovery: backends, probe off Windows, contract version, request mapping', async () => {
  const backends = sdk.getAvailableBackends();
  assert.ok(backends.some((b) => b.backend === 'native' || b.backend === 'bubblewrap'), JSON.stringify(backends));
  assert.throws(() => sdk.probe(), (e) => e instanceof sdk.MxcError && e.code === 'unsupported_containment');
  assert.equal(sdk.SDK_CONTRACT_VERSION, '1.0.0');
  const config = sdk.createConfigFromRequest({ command: 'echo', environment: { A: '1', B: undefined }, workingDirectory: '/tmp' });
  assert.deepEqual(config.process, { commandLine: 'echo', timeout: 0, cwd: '/tmp', env: ['A=1'] });
  const e = sdk.mxcErrorFromCode('stale_id', 'gone');
  assert.ok(e instanceof sdk.MxcError && e.code === 'stale_id');
  assert.equal(sdk.mxcErrorFromEnvelope({ code: 'backend_error', message: 'm', remediation: 'r' }).remediation, 'r');
});

test('policy helpers: tools read-only, temp read-write, profile never the home', async () => {
  const tools = sdk.policy.filesystem.getAvailableToolsPolicy({ PATH: '/usr/bin:relative:/no/such:/bin' });
  assert.deepEqual(tools.readonlyPaths, ['/usr/bin', '/bin']);
  const temp = sdk.policy.filesystem.getTemporaryFilesPolicy({ TMPDIR: '/tmp' });
  assert.deepEqual(temp.readwritePaths, ['/tmp']);
  const home = scratch();
  const profile = sdk.policy.filesystem.getUserProfilePolicy({ HOME: home });
  assert.deepEqual(profile.readonlyPaths, []);
  fs.mkdirSync(`${home}/.local/bin`, { recursive: true });
  assert.deepEqual(sdk.policy.filesystem.getUserProfilePolicy({ HOME: home }).readonlyPaths, [`${home}/.local/bin`]);
});

test('telemetry: not applicable, and the presenter is never called', async () => {
  assert.equal((await sdk.getTelemetryConsentStatus()).state, 'not-applicable');
  const asked = await sdk.requestTelemetryConsent(() => assert.fail('prompted'));
  assert.equal(asked.result, 'notApplicable');
  assert.equal((await sdk.withdrawTelemetryConsent()).result, 'notApplicable');
});
