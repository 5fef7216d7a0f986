// What cordon's TypeScript SDK (sdk/ts) costs over running the cordon
// binary directly from Node: its v1 run({command: 'true'}) against
// `cordon --config -` started with child_process.spawn, the same config,
// output captured the same way. Paired rounds in shuffled order, medians
// of per-round ratios and differences (the budget is 2 ms).
//   node bench/sdk_overhead.mjs CORDON [ROUNDS]      (after npm run build in sdk/ts)
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

const [cordon, roundsArg] = process.argv.slice(2);
if (!cordon) throw new Error('usage: node bench/sdk_overhead.mjs CORDON [ROUNDS]');
const rounds = Number(roundsArg ?? 100);
process.env.CORDON_BIN = cordon;
const sdk = await import(new URL('../sdk/ts/dist/v1/index.js', import.meta.url).href);
const request = { command: 'true', timeoutMs: 30_000 };
const config = JSON.stringify(sdk.createConfigFromRequest(request));

function direct() {
  return new Promise((resolve, reject) => {
    const child = spawn(cordon, ['--config', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => out.push(b));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`exit ${code}`))));
    child.stdin.end(config);
  });
}
const viaSdk = async () => {
  const r = await sdk.run(request);
  if (r.exitCode !== 0) throw new Error(JSON.stringify(r));
};

const samples = { direct: [], sdk: [], ratio: [] };
for (let i = 0; i < 5; i++) { await direct(); await viaSdk(); }
for (let i = 0; i < rounds; i++) {
  const order = Math.random() < 0.5 ? ['direct', 'sdk'] : ['sdk', 'direct'];
  const t = {};
  for (const which of order) {
    const start = performance.now();
    if (which === 'direct') await direct(); else await viaSdk();
    t[which] = performance.now() - start;
  }
  samples.direct.push(t.direct);
  samples.sdk.push(t.sdk);
  samples.ratio.push(t.sdk / t.direct);
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const diffs = samples.sdk.map((s, i) => s - samples.direct[i]);
console.log(`${rounds} paired rounds, ${new Date().toISOString().slice(0, 16)} UTC, load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`| cordon --config - from Node (spawn) | ${median(samples.direct).toFixed(2)} ms |`);
console.log(`| cordon-sandbox/v1 run() | ${median(samples.sdk).toFixed(2)} ms |`);
console.log(`| median per-round ratio | ${median(samples.ratio).toFixed(3)} |`);
console.log(`| median per-round difference | ${median(diffs).toFixed(2)} ms |`);
