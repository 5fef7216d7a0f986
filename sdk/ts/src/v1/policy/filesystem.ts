/**
 * Host filesystem-policy helpers of v1 (`policy.filesystem.*`).
 *
 * @module
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { FilesystemPolicyResult } from '../../policy.js';

export { getAvailableToolsPolicy, getUserProfilePolicy } from '../../policy.js';
export type { Env, FilesystemPolicyResult, ToolsPolicyOptions } from '../../policy.js';

/**
 * The existing host temporary directory (`TMPDIR`, else `/tmp`), read-write;
 * nothing is created (MXC 1.0's behaviour). Note that a granted host `/tmp`
 * replaces the sandbox's private one.
 */
export function getTemporaryFilesPolicy(environment: { [key: string]: string | undefined } = process.env): FilesystemPolicyResult {
  const dir = environment.TMPDIR && isAbsolute(environment.TMPDIR) ? environment.TMPDIR : '/tmp';
  try {
    if (statSync(dir).isDirectory()) return { readonlyPaths: [], readwritePaths: [dir] };
  } catch {
    // Missing: an empty fragment.
  }
  return { readonlyPaths: [], readwritePaths: [] };
}
