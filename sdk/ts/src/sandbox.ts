/**
 * MXC 0.x one-shot API: build a config from a policy, spawn it with or
 * without a terminal, or run it to completion.
 *
 * The config building is the client-side part MXC's own SDK does (copying
 * the policy's fields into the versioned config); every check of the
 * config is cordon's, so a refusal carries cordon's message.
 *
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MxcError } from './errors.js';
import { capture, check, invoke, type InvokeOptions } from './invoke.js';
import { spawnOnTerminal, type IPty, type PtyForkOptions } from './terminal.js';
import type { ContainerConfig, ContainmentBackend, ContainmentType, SandboxPolicy } from './types.js';

/** Options of the 0.x spawn functions (MXC's `SandboxSpawnOptions`). */
export interface SandboxSpawnOptions {
  /** cordon's `--debug`: what it decided and did, on stderr. */
  debug?: boolean;
  /** Accepted; cordon has no separate experimental mode. */
  experimental?: boolean;
  /** Accepted; cordon has no testing-only features. */
  allowTestingFeatures?: boolean;
  /** Accepted and ignored (MXC telemetry). */
  correlationVector?: string;
  /** The cordon binary to use (else `CORDON_BIN`, the platform package, PATH). */
  executablePath?: string;
  /** Accepted; cordon itself checks the platform on every run. */
  skipPlatformCheck?: boolean;
  /** node-pty options for terminal runs (`cols`, `rows`, `name`, …). */
  ptyOptions?: PtyForkOptions;
  /** Check the config and run nothing. */
  dryRun?: boolean;
  /** Write cordon's diagnostic log (JSON lines) into this directory. */
  logDir?: string;
  /** `false`: a `ChildProcess` with separate streams; default: a terminal (node-pty). */
  usePty?: boolean;
  /** Cancels: cordon stops and kills every process of the sandbox. */
  signal?: AbortSignal;
}

const DIRECTIONAL_FROM = [0, 8];

function atLeast(version: string, [major, minor]: number[]): boolean {
  const m = /^(\d+)\.(\d+)\./.exec(version);
  if (m === null) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

/**
 * A config from a policy, for `containment` (default `process`: cordon's
 * best backend here). The result may be edited before it is spawned.
 */
export function createConfigFromPolicy(
  policy: SandboxPolicy,
  containment: ContainmentType | ContainmentBackend = 'process',
  containerName?: string,
): ContainerConfig {
  if (policy === null || typeof policy !== 'object' || typeof policy.version !== 'string' || policy.version === '') {
    throw new MxcError('malformed_request', 'policy.version: required (e.g. "0.6.0-alpha" or "1.0.0")');
  }
  const config: ContainerConfig = {
    version: policy.version,
    containerId: containerName ?? randomBytes(4).toString('hex'),
    containment,
    lifecycle: { destroyOnExit: true, preservePolicy: !(policy.filesystem?.clearPolicyOnExit ?? true) },
    process: { commandLine: '', timeout: policy.timeoutMs ?? 0 },
    filesystem: {
      readwritePaths: [...(policy.filesystem?.readwritePaths ?? [])],
      readonlyPaths: [...(policy.filesystem?.readonlyPaths ?? [])],
      deniedPaths: [...(policy.filesystem?.deniedPaths ?? [])],
    },
    ui: {
      disable: !(policy.ui?.allowWindows ?? false),
      clipboard: policy.ui?.clipboard ?? 'none',
      injection: policy.ui?.allowInputInjection ?? false,
    },
  };
  const net = policy.network;
  const legacy =
    net !== undefined &&
    (net.allowOutbound !== undefined ||
      net.allowLocalNetwork !== undefined ||
      net.allowedHosts !== undefined ||
      net.blockedHosts !== undefined ||
      net.proxy !== undefined);
  const directional = net?.egress !== undefined || net?.ingress !== undefined;
  if (directional || (!legacy && atLeast(policy.version, DIRECTIONAL_FROM))) {
    // Directional form (schema 0.8+); mixing is cordon's to refuse, by field.
    if (directional) config.network = { egress: net?.egress, ingress: net?.ingress };
    if (legacy) Object.assign((config.network ??= {}), legacyNetwork(policy));
  } else {
    config.network = net !== undefined ? legacyNetwork(policy) : { defaultPolicy: 'block' };
  }
  if (policy.runtimeConfig !== undefined) config.runtimeConfig = { ...policy.runtimeConfig };
  if (policy.processContainer !== undefined) config.processContainer = { ...policy.processContainer };
  return config;
}

function legacyNetwork(policy: SandboxPolicy): NonNullable<ContainerConfig['network']> {
  const net = policy.network ?? {};
  const out: NonNullable<ContainerConfig['network']> = {
    defaultPolicy: net.allowOutbound ? 'allow' : 'block',
  };
  if (net.allowLocalNetwork !== undefined) out.allowLocalNetwork = net.allowLocalNetwork;
  if (net.allowedHosts !== undefined) out.allowedHosts = net.allowedHosts;
  if (net.blockedHosts !== undefined) out.blockedHosts = net.blockedHosts;
  if (net.proxy !== undefined) out.proxy = net.proxy;
  return out;
}

/** A complete config for `script` under `policy`. */
export function buildSandboxPayload(
  script: string,
  policy: SandboxPolicy,
  workingDirectory?: string,
  containerName?: string,
  containment?: ContainmentType | ContainmentBackend,
): ContainerConfig {
  const config = createConfigFromPolicy(policy, containment, containerName);
  config.process = { ...config.process, commandLine: script };
  if (workingDirectory !== undefined) config.process.cwd = workingDirectory;
  return config;
}

function withRun(
  config: ContainerConfig,
  workingDirectory?: string,
  env?: { [key: string]: string | undefined },
): ContainerConfig {
  if (config?.process?.commandLine === undefined || config.process.commandLine === '') {
    throw new MxcError('malformed_request', 'process.commandLine: set it before spawning (config.process.commandLine = "...")');
  }
  const process = { ...config.process };
  if (workingDirectory !== undefined) process.cwd = workingDirectory;
  if (env !== undefined) {
    process.env = Object.entries(env)
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, v]) => `${k}=${v}`);
  }
  return { ...config, process };
}

/** cordon's flags for these options. */
export function cordonFlags(options: SandboxSpawnOptions): string[] {
  const flags: string[] = [];
  if (options.debug) flags.push('--debug');
  if (options.dryRun) flags.push('--dry-run');
  if (options.logDir !== undefined) {
    flags.push('--log-file', join(options.logDir, `cordon-${Date.now()}-${process.pid}.jsonl`));
  }
  return flags;
}

function invokeOptions(options: SandboxSpawnOptions): InvokeOptions {
  return { executablePath: options.executablePath, signal: options.signal };
}

/**
 * Spawn a config. `usePty: false`: the `ChildProcess` of cordon, whose
 * stdin, stdout and stderr are the workload's and whose exit code is the
 * workload's (125 and a message on stderr when cordon refused). Otherwise a
 * node-pty terminal (`IPty`).
 */
export function spawnSandboxFromConfig(
  config: ContainerConfig,
  options: SandboxSpawnOptions & { usePty: false },
  workingDirectory?: string,
  env?: { [key: string]: string | undefined },
): ChildProcess;
export function spawnSandboxFromConfig(
  config: ContainerConfig,
  options?: SandboxSpawnOptions,
  workingDirectory?: string,
  env?: { [key: string]: string | undefined },
): IPty;
export function spawnSandboxFromConfig(
  config: ContainerConfig,
  options: SandboxSpawnOptions = {},
  workingDirectory?: string,
  env?: { [key: string]: string | undefined },
): ChildProcess | IPty {
  const request = withRun(config, workingDirectory, env);
  if (options.usePty === false) {
    return invoke(cordonFlags(options), request, invokeOptions(options)).child;
  }
  const run = spawnOnTerminal(request, ['run', ...cordonFlags(options)], {
    executablePath: options.executablePath,
    ptyOptions: options.ptyOptions,
  });
  options.signal?.addEventListener('abort', () => run.pty.kill(), { once: true });
  return run.pty;
}

/** Spawn `script` under `policy` on a terminal (node-pty). */
export function spawnSandbox(
  script: string,
  policy: SandboxPolicy,
  options: SandboxSpawnOptions = {},
  workingDirectory?: string,
  containerName?: string,
  env?: { [key: string]: string | undefined },
): IPty {
  const config = buildSandboxPayload(script, policy, workingDirectory, containerName);
  return spawnSandboxFromConfig(config, { ...options, usePty: true }, undefined, env);
}

/**
 * Run `script` under `policy` to completion: its stdout, stderr (separate)
 * and exit code. A refusal rejects with {@link MxcError}.
 */
export async function spawnSandboxAsync(
  script: string,
  policy: SandboxPolicy,
  options: SandboxSpawnOptions = {},
  workingDirectory?: string,
  containerName?: string,
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const config = buildSandboxPayload(script, policy, workingDirectory, containerName);
  if (options.dryRun) {
    await check(config, invokeOptions(options));
    return { stdout: '', stderr: '', exitCode: 0 };
  }
  const { stdout, stderr, outcome } = await capture(cordonFlags(options), config, invokeOptions(options));
  return { stdout, stderr, exitCode: outcome.exitCode };
}
