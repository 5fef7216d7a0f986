// MXC's TypeScript SDK 1.0.1: it asks its Linux runner for
// `--available-backends` in getPlatformSupport() and does everything else
// through its native library (cordon's own SDK covers that surface). The
// package declares Node >= 24; its platform probe runs on Node 20.
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
