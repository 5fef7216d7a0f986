/**
 * The container lifecycle on cordon: provision → start → exec (many) →
 * stop → deprovision. cordon's backends (`process`, `native`,
 * `bubblewrap`) take part; ids are cordon's (`native:…`).
 *
 * @module
 */
import { execFileSync, spawn as spawnChild } from 'node:child_process';
import type { Readable } from 'node:stream';
import { cordonBinary } from '../binary.js';
import { MxcError } from '../errors.js';
import { parseOutcome } from '../invoke.js';
import * as core from '../lifecycle.js';
import type { ProcessConfig } from '../types.js';
import type { RunOptions, SpawnWithPtyOptions } from './container.js';
import { MxcProcess, MxcPtyProcess, outcomeWarnings, processOf as liveProcess, terminalDriver } from './process.js';
import { envList, SDK_CONTRACT_VERSION } from './request.js';
import type { DirectionalNetworkConfig, ExecutionResult, FilesystemConfig, NetworkRuntimeConfig, TelemetryConfig } from './types.js';

/** Backends with a lifecycle on cordon (MXC's Windows kinds are refused by cordon). */
export type LifecycleContainmentKind = 'process' | 'native' | 'bubblewrap' | 'isolation_session' | 'wslc';

/** A container id as {@link provisionContainer} returned it. */
export type ContainerId<C extends LifecycleContainmentKind = LifecycleContainmentKind> = string & {
  readonly __mxcBrand?: 'ContainerId';
  readonly __mxcBackend?: C;
};

/** What a container is provisioned with. */
export interface ProvisionRequest<C extends LifecycleContainmentKind = LifecycleContainmentKind> {
  containment: C;
  filesystem?: FilesystemConfig;
  network?: DirectionalNetworkConfig;
  runtimeConfig?: NetworkRuntimeConfig;
  telemetry?: TelemetryConfig;
  [key: string]: unknown;
}

/** One command in a running container. */
export interface ExecutionRequest<C extends LifecycleContainmentKind = LifecycleContainmentKind> {
  command: string;
  workingDirectory?: string;
  environment?: Record<string, string>;
  inheritDefaultEnvironment?: boolean;
  timeoutMs?: number;
  /** Refused by cordon: a container's network is fixed at provision. */
  network?: C extends 'wslc' ? { runtimeConfig?: NetworkRuntimeConfig } : never;
  telemetry?: TelemetryConfig;
}

/** What provision returns. */
export interface ProvisionResult<C extends LifecycleContainmentKind = LifecycleContainmentKind> {
  containerId: ContainerId<C>;
  metadata?: Record<string, unknown>;
  warnings: string[];
}
/** What start, stop and deprovision return. */
export interface LifecycleResult {
  warnings: string[];
}
/** What a validation returns. */
export interface ValidationResult {
  warnings: string[];
}
export type ProvisionOptions = RunOptions;
export type StartOptions = RunOptions;
export type StopOptions = RunOptions;
export type DeprovisionOptions = RunOptions;
export type SpawnInContainerOptions = RunOptions;
export type RunInContainerOptions = RunOptions;
export type SpawnInContainerWithPtyOptions = SpawnWithPtyOptions;

function opts(options: RunOptions) {
  return { executablePath: options.executablePath, signal: options.signal };
}

function provisionDoc(request: ProvisionRequest): Record<string, unknown> {
  if (request === null || typeof request !== 'object' || typeof request.containment !== 'string') {
    throw new MxcError('malformed_request', 'containment: required ("process", "native" or "bubblewrap")');
  }
  const { containment, telemetry: _telemetry, ...rest } = request;
  return { version: SDK_CONTRACT_VERSION, ...rest, containment };
}

function processOf(request: ExecutionRequest): ProcessConfig {
  if (request === null || typeof request !== 'object' || typeof request.command !== 'string' || request.command === '') {
    throw new MxcError('malformed_request', 'command: must be a non-empty string');
  }
  if (request.network !== undefined) {
    throw new MxcError(
      'policy_validation',
      "network: per-exec network settings are not supported; a container's network is fixed when it is provisioned",
    );
  }
  const process: ProcessConfig = { commandLine: request.command, timeout: request.timeoutMs ?? 0 };
  if (request.workingDirectory !== undefined) process.cwd = request.workingDirectory;
  const env = envList(request.environment);
  if (env !== undefined) process.env = env;
  if (request.inheritDefaultEnvironment !== undefined) process.inheritDefaultEnv = request.inheritDefaultEnvironment;
  return process;
}

/** Create a container; returns its id. */
export async function provisionContainer<C extends LifecycleContainmentKind>(
  request: ProvisionRequest<C>,
  options: ProvisionOptions = {},
): Promise<ProvisionResult<C>> {
  const doc = provisionDoc(request);
  const result = await core.provision(SDK_CONTRACT_VERSION, request.containment, doc, opts(options));
  return { containerId: result.sandboxId as ContainerId<C>, warnings: [] };
}

/** Start a provisioned container. */
export async function startContainer<C extends LifecycleContainmentKind>(
  containerId: ContainerId<C>,
  options: StartOptions = {},
): Promise<LifecycleResult> {
  await core.transition(SDK_CONTRACT_VERSION, 'start', containerId, opts(options));
  return { warnings: [] };
}

/** Stop a started container; its files stay, and it can start again. */
export async function stopContainer<C extends LifecycleContainmentKind>(
  containerId: ContainerId<C>,
  options: StopOptions = {},
): Promise<LifecycleResult> {
  await core.transition(SDK_CONTRACT_VERSION, 'stop', containerId, opts(options));
  return { warnings: [] };
}

/** Release a container and everything it kept. */
export async function deprovisionContainer<C extends LifecycleContainmentKind>(
  containerId: ContainerId<C>,
  options: DeprovisionOptions = {},
): Promise<LifecycleResult> {
  await core.transition(SDK_CONTRACT_VERSION, 'deprovision', containerId, opts(options));
  return { warnings: [] };
}

/** Run a command in a started container, streaming. */
export async function spawnInContainer<C extends LifecycleContainmentKind>(
  containerId: ContainerId<C>,
  request: ExecutionRequest<C>,
  options: SpawnInContainerOptions = {},
): Promise<MxcProcess> {
  const inv = core.execStreaming(SDK_CONTRACT_VERSION, containerId, processOf(request), opts(options));
  return liveProcess(inv);
}

/** Run a command in a started container to completion. */
export async function runInContainer<C extends LifecycleContainmentKind>(
  containerId: ContainerId<C>,
  request: ExecutionRequest<C>,
  options: RunInContainerOptions = {},
): Promise<ExecutionResult> {
  const { stdout, stderr, outcome } = await core.execCaptured(SDK_CONTRACT_VERSION, containerId, processOf(request), opts(options));
  return { stdout, stderr, exitCode: outcome.exitCode, timedOut: outcome.timedOut, warnings: outcomeWarnings(outcome) };
}

/** Run a command in a started container on a terminal (node-pty). */
export async function spawnInContainerWithPty<C extends LifecycleContainmentKind>(
  containerId: ContainerId<C>,
  request: ExecutionRequest<C>,
  options: SpawnInContainerWithPtyOptions = {},
): Promise<MxcPtyProcess> {
  const term = core.execOnTerminal(containerId, processOf(request), {
    executablePath: options.executablePath,
    ptyOptions: { cols: options.size?.columns ?? 80, rows: options.size?.rows ?? 24 },
  });
  const proc = new MxcPtyProcess(terminalDriver(term.pty, term.outcome));
  options.signal?.addEventListener('abort', () => proc.kill(), { once: true });
  return proc;
}

/** `cordon validate -` on a document: resolves when valid, else rejects with cordon's error. */
function validateDoc(doc: Record<string, unknown>, options: RunOptions): Promise<ValidationResult> {
  const bin = cordonBinary(options.executablePath);
  const child = spawnChild(bin, ['validate', '-', '--outcome-fd', '3'], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
  child.stdin?.on('error', () => {});
  child.stdin?.end(JSON.stringify(doc));
  let report = '';
  (child.stdio[3] as Readable).setEncoding('utf8').on('data', (c: string) => (report += c));
  child.stderr?.resume();
  return new Promise((resolve, reject) => {
    child.on('error', (e) => reject(new MxcError('backend_unavailable', `starting ${bin}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve({ warnings: [] });
        return;
      }
      try {
        parseOutcome(report, code, signal);
        reject(new MxcError('backend_error', `cordon validate exited with ${code}`));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** The container's state as `cordon ls --json` lists it; `stale_id` when it does not exist. */
function stateOf(containerId: string, options: RunOptions): string {
  core.checkId(containerId);
  const bin = cordonBinary(options.executablePath);
  const list = (JSON.parse(execFileSync(bin, ['ls', '--json'], { encoding: 'utf8' })) as { sandboxes: Array<{ sandboxId: string; state: string }> }).sandboxes;
  const found = list.find((s) => s.sandboxId === containerId);
  if (found === undefined) {
    throw new MxcError('stale_id', `sandbox ${containerId} does not exist (never provisioned, or deprovisioned)`);
  }
  return found.state;
}

/** Check a provision request without creating anything. */
export function validateProvision<C extends LifecycleContainmentKind>(
  request: ProvisionRequest<C>,
  options: ProvisionOptions = {},
): Promise<ValidationResult> {
  return validateDoc({ ...provisionDoc(request), phase: 'provision' }, options);
}

/** Check that a container exists and can start. */
export async function validateStart<C extends LifecycleContainmentKind>(
  containerId: ContainerId<C>,
  options: StartOptions = {},
): Promise<ValidationResult> {
  if (stateOf(containerId, options) === 'running') {
    throw new MxcError('already_started', `sandbox ${containerId} is already running`);
  }
  return { warnings: [] };
}

/** Check that a container exists and is running. */
export async function validateStop<C extends LifecycleContainmentKind>(
  containerId: ContainerId<C>,
  options: StopOptions = {},
): Promise<ValidationResult> {
  if (stateOf(containerId, options) !== 'running') {
    throw new MxcError('not_started', `sandbox ${containerId} is not running (start it first)`);
  }
  return { warnings: [] };
}

/** Check that a container exists. */
export async function validateDeprovision<C extends LifecycleContainmentKind>(
  containerId: ContainerId<C>,
  options: DeprovisionOptions = {},
): Promise<ValidationResult> {
  stateOf(containerId, options);
  return { warnings: [] };
}

/** Check an exec request against a running container without running it. */
export async function validateProcess<C extends LifecycleContainmentKind>(
  containerId: ContainerId<C>,
  request: ExecutionRequest<C>,
  options: SpawnInContainerOptions = {},
): Promise<ValidationResult> {
  processOf(request);
  if (stateOf(containerId, options) !== 'running') {
    throw new MxcError('not_started', `sandbox ${containerId} is not running (start it first)`);
  }
  return { warnings: [] };
}
