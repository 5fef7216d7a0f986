/**
 * Policy fragments discovered on the host, for a policy's `filesystem`
 * (MXC's `get*Policy` helpers, on Linux). They only read the environment
 * and the file system; cordon checks every path again when it runs.
 *
 * @module
 */
import { mkdtempSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';

/** A fragment of filesystem policy, to merge into a policy. */
export interface FilesystemPolicyResult {
  readonlyPaths: string[];
  readwritePaths: string[];
  /** The directory {@link getTemporaryFilesPolicy} made, when it made one. */
  tempDirectory?: string;
}

/** Options of {@link getAvailableToolsPolicy} (the Windows filter is accepted, and means nothing here). */
export interface ToolsPolicyOptions {
  containerType?: 'processcontainer';
}

/** An environment map (`process.env` by default). */
export type Env = { [key: string]: string | undefined };

/** Variables naming a tool's home (their directories are read-only grants). */
const TOOL_HOMES = ['JAVA_HOME', 'GOROOT', 'RUSTUP_HOME', 'CARGO_HOME', 'NVM_DIR', 'PYENV_ROOT', 'DOTNET_ROOT', 'VIRTUAL_ENV'];

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The directories on `PATH` and the tool homes the environment names
 * (`JAVA_HOME`, `GOROOT`, …) that exist, read-only. Relative `PATH` entries
 * (`.`, empty) are left out: they would grant whatever directory the
 * sandbox starts in.
 */
export function getAvailableToolsPolicy(env: Env = process.env, _options?: ToolsPolicyOptions): FilesystemPolicyResult {
  const seen = new Set<string>();
  const candidates = [...(env.PATH ?? '').split(':'), ...TOOL_HOMES.map((k) => env[k] ?? '')];
  for (const entry of candidates) {
    if (entry === '' || !isAbsolute(entry)) continue;
    const dir = normalize(entry).replace(/(.)\/$/, '$1');
    if (isDir(dir)) seen.add(dir);
  }
  return { readonlyPaths: [...seen], readwritePaths: [] };
}

/**
 * Per-user installed tools, read-only: `~/.local/bin` when it exists (the
 * Linux counterpart of `%LOCALAPPDATA%\Programs`). Never a credential
 * store: the home itself is not granted.
 */
export function getUserProfilePolicy(env: Env = process.env): FilesystemPolicyResult {
  const home = env.HOME ?? homedir();
  const bin = join(home, '.local', 'bin');
  return { readonlyPaths: isDir(bin) ? [bin] : [], readwritePaths: [] };
}

/**
 * A new directory of its own (mode 0700) under `TMPDIR` (else `/tmp`),
 * read-write: MXC 0.x's behaviour. The caller removes it when done.
 */
export function getTemporaryFilesPolicy(env: Env = process.env): FilesystemPolicyResult {
  const base = env.TMPDIR && isAbsolute(env.TMPDIR) && isDir(env.TMPDIR) ? env.TMPDIR : '/tmp';
  const dir = mkdtempSync(join(base, 'cordon-sandbox-'));
  return { readonlyPaths: [], readwritePaths: [dir], tempDirectory: dir };
}
