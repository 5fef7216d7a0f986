/**
 * MXC 0.x state-aware lifecycle names on cordon. cordon's backends take
 * part (`process`, `native`, `bubblewrap`); ids are cordon's
 * (`native:…`), not MXC's Windows prefixes.
 *
 * @module
 */
import * as core from './lifecycle.js';
import type { SandboxSpawnOptions } from './sandbox.js';
import type { IPty } from './terminal.js';
import type { ContainerConfig, ProcessConfig } from './types.js';

/** The five phases. */
export type Phase = 'provision' | 'start' | 'exec' | 'stop' | 'deprovision';

/** Backends with a lifecycle: cordon's Linux ones (MXC's Windows names are refused by cordon). */
export type StateAwareContainmentBackend = 'process' | 'native' | 'bubblewrap' | 'isolation_session' | 'windows_sandbox' | 'wslc';

/** A sandbox id as `provisionSandbox` returned it (a plain string at run time). */
export type SandboxId<C extends StateAwareContainmentBackend = StateAwareContainmentBackend> = string & {
  readonly __mxcBrand?: 'SandboxId';
  readonly __mxcBackend?: C;
};

/** What a sandbox is provisioned with: a config without `process` (all optional). */
export interface ProvisionConfig {
  version?: string;
  filesystem?: ContainerConfig['filesystem'];
  network?: ContainerConfig['network'];
  runtimeConfig?: ContainerConfig['runtimeConfig'];
  [key: string]: unknown;
}
/** An exec: the process to run. */
export interface ExecConfig {
  version?: string;
  process: ProcessConfig;
}
/** Start, stop and deprovision take nothing beyond an optional version. */
export interface PhaseConfig {
  version?: string;
}

/** What `provisionSandbox` returns. */
export interface ProvisionResult<C extends StateAwareContainmentBackend = StateAwareContainmentBackend> {
  sandboxId: SandboxId<C>;
  metadata?: Record<string, unknown>;
}
/** What start, stop and deprovision return. */
export interface StartResult {
  metadata?: Record<string, unknown>;
}
export type StopResult = StartResult;
export type DeprovisionResult = StartResult;
/** A finished exec. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const VERSION = '0.9.0-alpha';

function opts(options?: SandboxSpawnOptions) {
  return { executablePath: options?.executablePath, signal: options?.signal };
}

/** Create a sandbox; returns its id. */
export async function provisionSandbox<C extends StateAwareContainmentBackend>(
  containment: C,
  config: ProvisionConfig = {},
  options?: SandboxSpawnOptions,
): Promise<ProvisionResult<C>> {
  const { version, ...rest } = config;
  const result = await core.provision((version as string | undefined) ?? VERSION, containment, rest, opts(options));
  return { sandboxId: result.sandboxId as SandboxId<C> };
}

/** Start a provisioned sandbox. */
export async function startSandbox<C extends StateAwareContainmentBackend>(
  sandboxId: SandboxId<C>,
  config: PhaseConfig = {},
  options?: SandboxSpawnOptions,
): Promise<StartResult> {
  await core.transition(config.version ?? VERSION, 'start', sandboxId, opts(options));
  return {};
}

/** Run a command in a started sandbox on a terminal (node-pty). */
export function execInSandbox<C extends StateAwareContainmentBackend>(
  sandboxId: SandboxId<C>,
  config: ExecConfig,
  options: SandboxSpawnOptions = {},
): IPty {
  const run = core.execOnTerminal(sandboxId, config.process, {
    executablePath: options.executablePath,
    ptyOptions: options.ptyOptions,
  });
  options.signal?.addEventListener('abort', () => run.pty.kill(), { once: true });
  return run.pty;
}

/** Run a command in a started sandbox to completion. */
export async function execInSandboxAsync<C extends StateAwareContainmentBackend>(
  sandboxId: SandboxId<C>,
  config: ExecConfig,
  options?: SandboxSpawnOptions,
): Promise<ExecResult> {
  const { stdout, stderr, outcome } = await core.execCaptured(
    config.version ?? VERSION,
    sandboxId,
    config.process,
    opts(options),
  );
  return { stdout, stderr, exitCode: outcome.exitCode };
}

/** Kill every process of the sandbox; keep its files. */
export async function stopSandbox<C extends StateAwareContainmentBackend>(
  sandboxId: SandboxId<C>,
  config: PhaseConfig = {},
  options?: SandboxSpawnOptions,
): Promise<StopResult> {
  await core.transition(config.version ?? VERSION, 'stop', sandboxId, opts(options));
  return {};
}

/** Remove a stopped sandbox and everything it kept. */
export async function deprovisionSandbox<C extends StateAwareContainmentBackend>(
  sandboxId: SandboxId<C>,
  config: PhaseConfig = {},
  options?: SandboxSpawnOptions,
): Promise<DeprovisionResult> {
  await core.transition(config.version ?? VERSION, 'deprovision', sandboxId, opts(options));
  return {};
}
