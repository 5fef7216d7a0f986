/**
 * The state-aware lifecycle on cordon, shared by both API generations:
 * provision → start → exec (many) → stop → deprovision. Each call is one
 * cordon process speaking MXC's wire form; the sandbox lives on between
 * calls, owned by cordon's keeper, and `cordon ls` lists it.
 *
 * @module
 */
import { MxcError } from './errors.js';
import { phase, type PhaseResult } from './envelope.js';
import { capture, invoke, type Invocation, type InvokeOptions, type Outcome } from './invoke.js';
import { spawnOnTerminal, type PtyForkOptions, type TerminalRun } from './terminal.js';
import type { ProcessConfig } from './types.js';

/** cordon's sandbox ids: `native:…` or `bubblewrap:…` (its backend, a colon, hex). */
export const SANDBOX_ID = /^[a-z][a-z0-9_-]*:[0-9a-f]{8,64}$/;

/** Refuse a malformed id before starting cordon (cordon checks it again). */
export function checkId(id: unknown): string {
  if (typeof id !== 'string' || !SANDBOX_ID.test(id)) {
    throw new MxcError({
      code: 'malformed_id',
      message: `sandbox id ${JSON.stringify(id)} is not one cordon made (expected BACKEND:HEX, as provision returns)`,
    });
  }
  return id;
}

/** Provision from a provisioning config (filesystem, network, limits). */
export function provision(
  version: string,
  containment: string,
  config: Record<string, unknown>,
  options: InvokeOptions = {},
): Promise<PhaseResult> {
  return phase({ version, ...config, phase: 'provision', containment }, options);
}

/** Start, stop or deprovision. */
export function transition(
  version: string,
  name: 'start' | 'stop' | 'deprovision',
  id: string,
  options: InvokeOptions = {},
): Promise<PhaseResult> {
  return phase({ version, phase: name, sandboxId: checkId(id) }, options);
}

/** The wire request of one exec. */
export function execRequest(version: string, id: string, process: ProcessConfig): Record<string, unknown> {
  if (typeof process?.commandLine !== 'string' || process.commandLine === '') {
    throw new MxcError('malformed_request', 'process.commandLine: required for exec (a non-empty command line)');
  }
  return { version, phase: 'exec', sandboxId: checkId(id), process };
}

/** Exec streaming: stdin, stdout and stderr are the command's own. */
export function execStreaming(
  version: string,
  id: string,
  process: ProcessConfig,
  options: InvokeOptions = {},
): Invocation {
  return invoke([], execRequest(version, id, process), options);
}

/** Exec to completion, captured. */
export async function execCaptured(
  version: string,
  id: string,
  process: ProcessConfig,
  options: InvokeOptions = {},
): Promise<{ stdout: string; stderr: string; outcome: Outcome }> {
  return capture([], execRequest(version, id, process), options);
}

/**
 * Exec on a terminal (node-pty): `cordon exec ID --pty`. The command line,
 * working directory, variables and timeout go as cordon's exec flags.
 */
export function execOnTerminal(
  id: string,
  process: ProcessConfig,
  options: { executablePath?: string; ptyOptions?: PtyForkOptions } = {},
): TerminalRun {
  execRequest('1.0.0', id, process);
  const flags: string[] = ['exec', checkId(id)];
  for (const kv of process.env ?? []) flags.push('--env', kv);
  if (process.cwd !== undefined) flags.push('--cwd', process.cwd);
  if (process.timeout) flags.push('--timeout', String(process.timeout));
  return spawnOnTerminal(undefined, flags, { ...options, command: ['sh', '-c', process.commandLine] });
}
