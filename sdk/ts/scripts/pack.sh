#!/usr/bin/env bash
# Pack the SDK the way it ships (the esbuild pattern): cordon-sandbox, whose
# optionalDependencies name one package per platform, and
# cordon-sandbox-linux-<arch> holding the static cordon binary (npm installs
# only the one whose os/cpu match). Then install both tarballs into a fresh
# project, without CORDON_BIN, and run a sandbox through the installed
# package: the binary must resolve from the platform package.
#   scripts/pack.sh CORDON_BINARY [OUTDIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(realpath "${1:?usage: pack.sh CORDON_BINARY [OUTDIR]}")"
out="$(realpath -m "${2:-$here/build/npm}")"
version="$(node -p "require('$here/package.json').version")"
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
platform="cordon-sandbox-linux-$arch"
rm -rf "$out" && mkdir -p "$out/stage/main" "$out/stage/$platform/bin"

(cd "$here" && npx tsc -p tsconfig.json)
# The platform package: the binary and a manifest npm filters by os/cpu.
install -m 0755 "$bin" "$out/stage/$platform/bin/cordon"
# The MCP server ships beside it (`cordon mcp` runs the cordon-mcp next to cordon).
[ -x "$(dirname "$bin")/cordon-mcp" ] || {
  echo "pack: $(dirname "$bin")/cordon-mcp is missing (scripts/build-release.sh builds it)" >&2; exit 1; }
install -m 0755 "$(dirname "$bin")/cordon-mcp" "$out/stage/$platform/bin/cordon-mcp"
cat > "$out/stage/$platform/package.json" <<JSON
{
  "name": "$platform",
  "version": "$version",
  "description": "The cordon binary for Linux $arch (installed by cordon-sandbox)",
  "license": "MIT",
  "os": ["linux"],
  "cpu": ["$arch"],
  "files": ["bin"]
}
JSON
# The main package, with the platform packages as optional dependencies
# (those built here: this machine's; an aarch64 build would add its own).
cp -r "$here/dist" "$here/README.md" "$out/stage/main/"
node -e "
  const p = require('$here/package.json');
  p.optionalDependencies = { ...p.optionalDependencies, '$platform': p.version };
  delete p.devDependencies; delete p.scripts;
  require('fs').writeFileSync('$out/stage/main/package.json', JSON.stringify(p, null, 2) + '\n');
"
(cd "$out" && npm pack --silent "./stage/main" "./stage/$platform" >/dev/null)
ls "$out"/*.tgz >&2

# Install as a user would, from the tarballs, and run one sandbox.
project="$(mktemp -d /tmp/cordon-sdk-install.XXXXXX)"
trap 'rm -rf "$project"' EXIT
(cd "$project" && npm init -y >/dev/null &&
  npm install --no-audit --no-fund --loglevel=error --omit=optional \
    "$out/cordon-sandbox-$version.tgz" "$out/$platform-$version.tgz" >/dev/null)
cat > "$project/check.mjs" <<'JS'
import { run, getPlatformSupport } from 'cordon-sandbox/v1';
import { cordonBinary } from 'cordon-sandbox';
const bin = cordonBinary();
if (!bin.includes('/node_modules/cordon-sandbox-linux-')) throw new Error(`binary not from the platform package: ${bin}`);
if (!getPlatformSupport().isSupported) throw new Error('unsupported');
const out = await run({ command: 'echo packed-ok' });
if (out.stdout !== 'packed-ok\n' || out.exitCode !== 0) throw new Error(JSON.stringify(out));
const { spawnSync } = await import('node:child_process');
const mcp = spawnSync(bin, ['mcp', '--help'], { encoding: 'utf8' });
if (mcp.status !== 0 || !mcp.stdout.includes('--http')) throw new Error(`cordon mcp from the package: ${mcp.status} ${mcp.stderr}`);
console.log(`pack: installed from tarballs; ran through ${bin}; cordon mcp found its server`);
JS
(cd "$project" && env -u CORDON_BIN PATH=/usr/bin:/bin node check.mjs)
